/**
 * Templates: text with `${ expression }` parts, e.g. `/customers/${params.customer}/orders`.
 * The expressions are JSONata (see expression.ts) and are compiled once; `$${` is a literal `${`.
 */
import { WeftError } from '../errors.ts';
import { compileExpression, type Expression } from './expression.ts';

export interface Template {
  readonly source: string;
  /** Set when the template has no ${} parts: its constant text, so callers can skip rendering. */
  readonly constant: string | undefined;
  /**
   * Renders the template; escape (e.g. encodeURIComponent for URL paths) is applied to each
   * interpolated value's text, never to the literal parts. Returns a string, or a
   * Promise<string> only when an embedded expression needs JSONata itself (it is not fast, or
   * this input needs JSONata's rarer semantics). Throws/rejects WeftError EXPRESSION.
   */
  render(ctx: object, escape?: (s: string) => string): string | Promise<string>;
}

/** A literal piece of text, or an expression whose value is interpolated. */
type Part = string | Expression;

/** Throws WeftError FLOW_EXPRESSION with details.position = offset in the template source. */
export function compileTemplate(source: string): Template {
  const parts = parse(source);
  if (parts.length === 0) return constantTemplate(source, '');
  if (parts.length === 1 && typeof parts[0] === 'string') return constantTemplate(source, parts[0]);
  return {
    source,
    constant: undefined,
    render(ctx: object, escape?: (s: string) => string): string | Promise<string> {
      let out = '';
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] as Part;
        if (typeof part === 'string') {
          out += part;
          continue;
        }
        const value = part.evaluate(ctx);
        if (value instanceof Promise) return finish(parts, i, out, value, ctx, escape);
        out += interpolate(value, part.source, escape);
      }
      return out;
    },
  };
}

function constantTemplate(source: string, text: string): Template {
  return { source, constant: text, render: () => text };
}

/**
 * Continues rendering once a part returned a Promise. The remaining parts are evaluated one
 * after the other, never leaving a Promise unobserved: a later failure cannot turn into an
 * unhandled rejection of an earlier part.
 */
async function finish(
  parts: readonly Part[],
  index: number,
  prefix: string,
  pending: Promise<unknown>,
  ctx: object,
  escape: ((s: string) => string) | undefined,
): Promise<string> {
  let out = prefix + interpolate(await pending, (parts[index] as Expression).source, escape);
  for (let i = index + 1; i < parts.length; i++) {
    const part = parts[i] as Part;
    out += typeof part === 'string' ? part : interpolate(await part.evaluate(ctx), part.source, escape);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering values.

/** JSON.rawJSON (Node 21+) is missing from TypeScript's lib; it writes a BigInt's exact digits. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * The text of an interpolated value. Strings as they are; undefined and null as nothing;
 * numbers as JSONata's $string writes them (at most 15 significant digits, so a computed
 * 0.1 + 0.2 reads "0.3", as `&` would give); booleans and BigInt as their text; objects and
 * arrays as JSON with the same number rule (BigInt as exact digits).
 */
function interpolate(value: unknown, source: string, escape: ((s: string) => string) | undefined): string {
  const text = valueText(value, source);
  return escape === undefined ? text : escape(text);
}

function valueText(value: unknown, source: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'undefined':
      return '';
    case 'number':
      if (!Number.isFinite(value)) {
        // JSONata's $string refuses these too (D3001); a template would otherwise print "Infinity".
        throw new WeftError('EXPRESSION', `Cannot render ${value} as text (JSONata D3001) in \`${source}\``);
      }
      return formatNumber(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'function':
      return ''; // as JSONata's $string does for functions
    default:
      return value === null ? '' : (JSON.stringify(value, jsonReplacer) ?? '');
  }
}

function formatNumber(n: number): string {
  return String(Number.isInteger(n) ? n : Number(n.toPrecision(15)));
}

function jsonReplacer(_key: string, v: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v)) return Number(v.toPrecision(15));
  if (typeof v === 'bigint') return rawJSON(v.toString());
  return v;
}

// ---------------------------------------------------------------------------------------------
// Parsing: finding the `${ ... }` parts.

function parse(source: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  let i = 0;
  while (i < source.length) {
    if (source.startsWith('$${', i)) {
      text += '${';
      i += 3;
    } else if (source.startsWith('${', i)) {
      const start = i + 2;
      const end = expressionEnd(source, start);
      if (end === undefined) {
        throw new WeftError('FLOW_EXPRESSION', `Invalid template \`${source}\`: \`\${\` at offset ${i} has no matching \`}\``, {
          details: { position: i },
        });
      }
      if (text !== '') parts.push(text);
      text = '';
      parts.push(compilePart(source, source.slice(start, end), start));
      i = end + 1;
    } else {
      text += source[i];
      i++;
    }
  }
  if (text !== '') parts.push(text);
  return parts;
}

/** Compiles one embedded expression, moving a syntax error's position into template offsets. */
function compilePart(source: string, expression: string, offset: number): Expression {
  try {
    return compileExpression(expression);
  } catch (err) {
    if (!(err instanceof WeftError)) throw err;
    const inner = err.details?.position;
    const position = typeof inner === 'number' ? offset + inner : offset;
    // compileExpression says `Invalid expression \`e\`: <reason> at offset <inner>`; keep the
    // reason and give the offset in the template instead.
    let reason = err.message;
    const head = `Invalid expression \`${expression}\`: `;
    const tail = ` at offset ${String(inner)}`;
    if (reason.startsWith(head)) reason = reason.slice(head.length);
    if (reason.endsWith(tail)) reason = reason.slice(0, -tail.length);
    throw new WeftError('FLOW_EXPRESSION', `Invalid template \`${source}\`: ${reason} at offset ${position}`, {
      details: { position },
      cause: err,
    });
  }
}

/**
 * The index of the `}` that closes an expression starting at `start`, or undefined. Follows
 * just enough of JSONata's lexer to skip braces that are not structure: inside "..." and '...'
 * strings (with backslash escapes), `quoted names`, comments and regular expressions. Like
 * JSONata's lexer, `/` starts a regex unless it follows an operand (a name, number, literal or
 * closing bracket); JSONata itself only accepts regexes whose brackets balance.
 */
function expressionEnd(source: string, start: number): number | undefined {
  let depth = 0;
  let i = start;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === '"' || c === "'") {
      i = stringEnd(source, i + 1, c);
    } else if (c === '`') {
      i = source.indexOf('`', i + 1);
    } else if (c === '/' && source[i + 1] === '*') {
      i = source.indexOf('*/', i + 2);
      if (i >= 0) i += 1;
    } else if (c === '/' && !followsOperand(source, start, i)) {
      i = regexEnd(source, i + 1);
    } else if (c === '{') {
      depth++;
    } else if (c === '}') {
      if (depth === 0) return i;
      depth--;
    }
    if (i < 0 || i >= source.length) return undefined;
    i++;
  }
  return undefined;
}

/** Index of the closing quote of a string whose body starts at `i`, or -1. */
function stringEnd(source: string, i: number, quote: string): number {
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') i += 2;
    else if (c === quote) return i;
    else i++;
  }
  return -1;
}

/** Index of the `/` closing a regex whose body starts at `i` (JSONata's scanRegex), or -1. */
function regexEnd(source: string, i: number): number {
  let depth = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '/' && depth === 0) return i;
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
    i++;
  }
  return -1;
}

/** True when the last token before `i` ends an operand, so a `/` there is division. */
function followsOperand(source: string, start: number, i: number): boolean {
  let j = i - 1;
  while (j >= start && ' \t\n\r\v'.includes(source[j] as string)) j--;
  if (j < start) return false;
  const c = source[j] as string;
  if (/[\w$]/.test(c)) {
    let w = j;
    while (w >= start && /[\w$]/.test(source[w] as string)) w--;
    const word = source.slice(w + 1, j + 1);
    return word !== 'and' && word !== 'or' && word !== 'in';
  }
  return ')]}"\'`'.includes(c);
}
