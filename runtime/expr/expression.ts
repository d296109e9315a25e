/**
 * Expressions in flow files are JSONata. They are compiled once at load time; evaluation runs
 * per message. Simple expressions (field paths, literals, object/array constructors, operators,
 * conditionals) run as synchronous closures (see fast-path.ts); everything else, and every
 * input the closures are unsure of, is evaluated by JSONata itself, so results are always
 * exactly JSONata's.
 */
import type jsonataType from 'jsonata';
import { WeftError } from '../errors.ts';
import { once } from '../lazy.ts';
import { compileFast, contextForJsonata, DEFER, type AstNode } from './fast-path.ts';
import { jsonata, parseSimplePath } from './jsonata-lazy.ts';

export interface Expression {
  readonly source: string;
  /** True when compiled to plain closures (synchronous, no JSONata call per evaluation). */
  readonly fast: boolean;
  /**
   * Returns the value, or a Promise when JSONata itself must evaluate (always for expressions
   * that are not fast; for fast ones only when the input needs JSONata's rarer semantics).
   * Throws/rejects WeftError code EXPRESSION on run-time failure.
   */
  evaluate(ctx: object): unknown;
}

/** The fields of the errors JSONata throws (plain objects, or Errors for internal failures). */
interface JsonataFailure {
  code?: unknown;
  message?: unknown;
  position?: unknown;
  token?: unknown;
  value?: unknown;
  value2?: unknown;
}

/** Throws WeftError FLOW_EXPRESSION, with details.position, when the source does not parse. */
export function compileExpression(source: string): Expression {
  // JSONata parses now when the source is more than a plain field path (its syntax errors are
  // load errors); a plain path needs JSONata only once an input defers to it (jsonata-lazy.ts).
  const simple = parseSimplePath(source);
  const compiled = simple === undefined ? parse(source) : once(() => parse(source)());
  const slow = (ctx: object): Promise<unknown> => evaluateWithJsonata(compiled(), source, ctx);
  const fn = compileFast(simple ?? (compiled().ast() as unknown as AstNode));
  if (fn === undefined) return { source, fast: false, evaluate: slow };
  return {
    source,
    fast: true,
    evaluate(ctx: object): unknown {
      // JSONata treats an array input as a sequence; contexts are objects, but stay exact.
      if (Array.isArray(ctx)) return slow(ctx);
      const value = fn(ctx);
      return value === DEFER ? slow(ctx) : value;
    },
  };
}

/** JSONata's parse of `source`, as a getter; throws FLOW_EXPRESSION when it does not parse. */
function parse(source: string): () => jsonataType.Expression {
  try {
    const compiled = jsonata()(source);
    return () => compiled;
  } catch (err) {
    throw syntaxError(source, err);
  }
}

async function evaluateWithJsonata(compiled: jsonataType.Expression, source: string, ctx: object): Promise<unknown> {
  const input = contextForJsonata(ctx);
  let result: unknown;
  try {
    result = await compiled.evaluate(input);
  } catch (err) {
    throw runtimeError(source, err);
  }
  return plain(result, input, ctx, new Map());
}

// ---------------------------------------------------------------------------------------------
// Results: JSONata's internal shapes become plain values.

/** Properties JSONata sets on its internal arrays (sequences, constructed arrays, ...). */
const ARRAY_MARKS = ['sequence', 'keepSingleton', 'outerWrapper', 'tupleStream', 'cons'];

function isMarkedArray(a: readonly unknown[]): boolean {
  return ARRAY_MARKS.some((mark) => Object.prototype.hasOwnProperty.call(a, mark));
}

/**
 * Copies what JSONata built into plain values: sequences (arrays with marker properties) into
 * plain arrays, and constructed objects (which have a null prototype) into ordinary objects.
 * Values taken from the input are returned by reference unless something inside them had to
 * change, so passing a large body through costs a walk but no copy. The context view given to
 * JSONata is swapped back for the caller's context. `done` maps each visited object to its
 * result, so shared and (theoretically) cyclic references terminate.
 */
function plain(value: unknown, view: object, ctx: object, done: Map<object, unknown>): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value === view) return ctx;
  if (done.has(value)) return done.get(value);
  done.set(value, value);
  let result: unknown = value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined = isMarkedArray(value) ? [] : undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const p = plain(item, view, ctx, done);
      if (out === undefined && p !== item) out = value.slice(0, i);
      if (out !== undefined) out.push(p);
    }
    if (out !== undefined) result = out;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return value; // Date, Buffer, ...: kept as they are
    const source = value as Record<string, unknown>;
    const keys = Object.keys(source);
    let out: Record<string, unknown> | undefined = proto === null ? {} : undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const p = plain(source[key], view, ctx, done);
      if (out === undefined && p !== source[key]) {
        out = {};
        for (const earlier of keys.slice(0, i)) define(out, earlier, source[earlier]);
      }
      if (out !== undefined) define(out, key, p);
    }
    if (out !== undefined) result = out;
  }
  done.set(value, result);
  return result;
}

/** Sets an own data property; plain assignment of `__proto__` would change the prototype instead. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

// ---------------------------------------------------------------------------------------------
// Errors.

function syntaxError(source: string, err: unknown): WeftError {
  const e = (typeof err === 'object' && err !== null ? err : {}) as JsonataFailure;
  const message = typeof e.message === 'string' ? e.message : String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const position = errorOffset(source, e);
  const where = position === undefined ? '' : ` at offset ${position}`;
  const jsonataCode = code === undefined ? '' : ` (JSONata ${code})`;
  return new WeftError('FLOW_EXPRESSION', `Invalid expression \`${source}\`: ${message}${jsonataCode}${where}`, {
    details: { position },
    cause: err,
  });
}

/**
 * JSONata reports where its lexer stood: usually just AFTER the offending token, sometimes at
 * its start. When the reported token is found ending there, the offset of its first character
 * is returned, so editors can point at it; otherwise the position, kept within the source.
 */
function errorOffset(source: string, e: JsonataFailure): number | undefined {
  if (typeof e.position !== 'number' || !Number.isFinite(e.position)) return undefined;
  const end = Math.max(0, Math.min(e.position, source.length));
  const token = typeof e.token === 'string' || typeof e.token === 'number' ? String(e.token) : undefined;
  if (token !== undefined && token !== '(end)' && end >= token.length && source.slice(end - token.length, end) === token) {
    return end - token.length;
  }
  return end;
}

function runtimeError(source: string, err: unknown): WeftError {
  if (err instanceof WeftError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as JsonataFailure;
  let message = typeof e.message === 'string' ? e.message : String(err);
  // JSONata writes the value with JSON.stringify, which turns Infinity into "null".
  if (e.code === 'D1001' && typeof e.value === 'number') message = `Number out of range: ${e.value}`;
  const code = typeof e.code === 'string' ? ` (JSONata ${e.code})` : '';
  return new WeftError('EXPRESSION', `${message}${code} in \`${source}\`${bigIntHint(e, message)}`, { cause: err });
}

/**
 * Integers beyond 2^53 are decoded as BigInt. JSONata has no BigInt support: arithmetic and
 * ordering reject it as "not a number" (T2001/T2002/T2010), and JSON.stringify (used by `&`,
 * $string and JSONata's own error messages) throws a bare TypeError. The fast path defers these
 * cases to JSONata, so both paths fail the same way; this hint says why.
 */
function bigIntHint(e: JsonataFailure, message: string): string {
  const involved = typeof e.value === 'bigint' || typeof e.value2 === 'bigint' || message.includes('BigInt');
  return involved ? '; the value is an integer beyond 2^53 (BigInt), which JSONata cannot calculate with or convert to text' : '';
}
