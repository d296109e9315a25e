/**
 * One-pass decoder for the plain XML most services send (a declaration, elements, attributes,
 * text and references), building the same value as the XML codec's fast-xml-parser path.
 *
 * The general path costs a parse plus a validation pass (the parser is lenient, so the
 * validator decides well-formedness and gives line and column). This scanner checks
 * well-formedness as it builds, but only for a strict subset of XML: on anything outside it
 * (comments, CDATA, processing instructions, carriage returns, non-ASCII names, whitespace
 * inside tags, mixed content, unusual attribute values) and on every error it gives up and
 * returns undefined, so the general path decides, with today's errors and messages.
 * Whatever it accepts, the validator accepts too, and test/unit/codecs/xml-fast.test.ts checks
 * its values against the general path.
 */

type Plain = Record<string, unknown>;

export interface FastXmlOptions {
  maxDepth: number;
  /** Dotted element paths from the root that are always arrays, and their last segments. */
  forcedPaths: ReadonlySet<string>;
  forcedNames: ReadonlySet<string>;
  /** Names the general path refuses (it throws HOSTILE_XML): the fast path leaves them to it. */
  reserved: ReadonlySet<string>;
  /** Decodes entity and character references; throws on a bad one. */
  decodeReferences: (text: string) => string;
}

const LT = 60; // <
const GT = 62; // >
const SLASH = 47; // /
const EQ = 61; // =
const QUOT = 34; // "
const APOS = 39; // '
const QUESTION = 63; // ?
const EXCLAMATION = 33; // !

// Attribute values the general path might read differently (normalised whitespace, '<' or '>'
// that the validator and parser treat apart): left to it.
const UNUSUAL_ATTRIBUTE = /[<>\t\n\r]/;
const NOT_WHITESPACE = /[^ \t\n]/;

const isWhitespace = (c: number): boolean => c === 32 || c === 10 || c === 9;
// ASCII subset of XML 1.0 names; a non-ASCII name goes to the general path.
const isNameStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
const isNameChar = (c: number): boolean => isNameStart(c) || (c >= 48 && c <= 57) || c === 45 || c === 46;

/** An open element: its name, attributes and children so far, and its text when it is a leaf. */
interface Open {
  name: string;
  attributes: Plain | undefined;
  children: Plain | undefined;
  text: string;
}

export function createFastXmlDecoder(options: FastXmlOptions): (text: string) => Plain | undefined {
  const { maxDepth, forcedPaths, forcedNames, reserved, decodeReferences } = options;

  function references(raw: string): string | undefined {
    if (raw.indexOf('&') === -1) return raw;
    try {
      return decodeReferences(raw);
    } catch {
      return undefined;
    }
  }

  function pathOf(stack: readonly Open[], name: string): string {
    let path = '';
    for (const open of stack) path += `${open.name}.`;
    return path + name;
  }

  /** Adds a finished element to its parent: repeated names become arrays, forced paths always are. */
  function addChild(stack: readonly Open[], parent: Open, name: string, value: unknown): void {
    const children = (parent.children ??= {});
    // hasOwn, not a lookup: <toString> must not find Object.prototype's.
    if (!Object.hasOwn(children, name)) {
      children[name] = forcedNames.has(name) && forcedPaths.has(pathOf(stack, name)) ? [value] : value;
      return;
    }
    const existing = children[name];
    if (Array.isArray(existing)) existing.push(value);
    else children[name] = [existing, value];
  }

  /**
   * The value of a closed element, as the general path builds it (docs/xml-convention.md):
   * children then attributes; a leaf's text (references decoded) first, then its attributes.
   * Undefined for mixed content or a bad reference.
   */
  function valueOf(open: Open): unknown {
    const { attributes, children } = open;
    if (children !== undefined) {
      // Whitespace beside child elements is layout; other text would be mixed content.
      if (open.text !== '' && NOT_WHITESPACE.test(open.text)) return undefined;
      return attributes === undefined ? children : Object.assign(children, attributes);
    }
    const text = references(open.text);
    if (text === undefined) return undefined;
    if (attributes === undefined) return text;
    if (text === '') return attributes;
    return { '#text': text, ...attributes };
  }

  return function decodeFast(text: string): Plain | undefined {
    const n = text.length;
    if (text.indexOf('\r') !== -1) return undefined; // line ends are normalised by the general path
    let i = 0;
    if (text.startsWith('<?xml ')) {
      const end = text.indexOf('?>', 6);
      if (end === -1) return undefined;
      i = end + 2;
    }
    const stack: Open[] = [];
    for (;;) {
      // Between markup: whitespace outside the root, text inside it.
      const lt = text.indexOf('<', i);
      if (lt === -1) return undefined;
      if (lt > i) {
        const open = stack.at(-1);
        if (open === undefined) {
          for (let k = i; k < lt; k++) if (!isWhitespace(text.charCodeAt(k))) return undefined;
        } else {
          // Raw text, all runs of it; valueOf decides whether it is a leaf's text or layout.
          open.text += text.slice(i, lt);
        }
      }
      i = lt + 1;
      const c = text.charCodeAt(i);
      if (c === QUESTION || c === EXCLAMATION) return undefined;

      if (c === SLASH) {
        const open = stack.pop();
        if (open === undefined || !text.startsWith(open.name, i + 1)) return undefined;
        i += 1 + open.name.length;
        if (text.charCodeAt(i) !== GT) return undefined;
        i++;
        const value = valueOf(open);
        if (value === undefined) return undefined;
        const parent = stack.at(-1);
        if (parent === undefined) return finish(text, i, open.name, value);
        addChild(stack, parent, open.name, value);
        continue;
      }

      // Start tag: name, then ` name="value"` pairs, then `>` or `/>`.
      if (!isNameStart(c)) return undefined;
      let end = i + 1;
      while (end < n && isNameChar(text.charCodeAt(end))) end++;
      const name = text.slice(i, end);
      if (reserved.has(name) || stack.length + 1 >= maxDepth) return undefined;
      i = end;
      let attributes: Plain | undefined;
      let selfClosing = false;
      for (;;) {
        const ch = text.charCodeAt(i);
        if (ch === GT) {
          i++;
          break;
        }
        if (ch === SLASH) {
          if (text.charCodeAt(i + 1) !== GT) return undefined;
          i += 2;
          selfClosing = true;
          break;
        }
        if (ch !== 32) return undefined;
        i++;
        if (!isNameStart(text.charCodeAt(i))) return undefined;
        end = i + 1;
        while (end < n && isNameChar(text.charCodeAt(end))) end++;
        const attribute = text.slice(i, end);
        const quote = text.charCodeAt(end + 1);
        if (text.charCodeAt(end) !== EQ || (quote !== QUOT && quote !== APOS) || reserved.has(attribute)) return undefined;
        const close = text.indexOf(quote === QUOT ? '"' : "'", end + 2);
        if (close === -1) return undefined;
        const raw = text.slice(end + 2, close);
        if (UNUSUAL_ATTRIBUTE.test(raw)) return undefined;
        const value = references(raw);
        const key = `@${attribute}`;
        if (value === undefined || (attributes !== undefined && Object.hasOwn(attributes, key))) return undefined;
        (attributes ??= {})[key] = value;
        i = close + 1;
      }
      const open: Open = { name, attributes, children: undefined, text: '' };
      if (!selfClosing) {
        stack.push(open);
        continue;
      }
      const value = valueOf(open);
      const parent = stack.at(-1);
      if (value === undefined) return undefined;
      if (parent === undefined) return finish(text, i, name, value);
      addChild(stack, parent, name, value);
    }
  };
}

/** The document once its root is closed: only whitespace may follow. */
function finish(text: string, i: number, name: string, value: unknown): Plain | undefined {
  for (; i < text.length; i++) if (!isWhitespace(text.charCodeAt(i))) return undefined;
  return { [name]: value };
}
