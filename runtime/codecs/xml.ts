/**
 * XML <-> the value model, following the convention in docs/xml-convention.md: `@name` keys are
 * attributes, `#text` is text beside attributes or children, repeated siblings are arrays, and
 * every value stays a string (XML carries no types).
 *
 * Decoding is fast-xml-parser behind our own guards, because the parser alone is lenient (it
 * accepts mismatched tags, two roots, undeclared entities) and would expand DTD entities. The
 * encoder is a small serializer of its own rather than fast-xml-parser's builder: the builder
 * emits invalid names, misorders null array items and turns nested arrays into `<0>` elements,
 * so making its output always well-formed would take a second walk over the value anyway.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { WeftError } from '../errors.ts';
import type { Codec } from './codec.ts';
import { decodeUtf8 } from './json.ts';
import { createFastXmlDecoder } from './xml-fast.ts';

export interface XmlOptions {
  /** Element paths (dotted, from the root element, e.g. "order.lines.line") always decoded as arrays, even when they occur once. */
  arrays?: readonly string[];
  /** Maximum element nesting depth; deeper input -> WeftError HOSTILE_XML. Default 64. */
  maxDepth?: number;
  /** Root element name used when encoding a value that is not an object with exactly one key. Default "root". */
  root?: string;
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';
/** Element name for the items of an array that has no key of its own (top level, array in array). */
const ITEM = 'item';
const TEXT = '#text';

// XML 1.0 `Name`; the colon stays allowed so prefixed names (soap:Body, xmlns:soap) pass.
const START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const XML_NAME = new RegExp(`^[${START}][${START}.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040-]*$`, 'u');
// Code points XML 1.0 cannot carry at all, not even as a character reference.
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
// fast-xml-parser refuses these element names outright (prototype pollution guard).
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const REFERENCE = /&([^&;\s<]*)(;?)/g;
const CHAR_REFERENCE = /^#(?:x[0-9A-Fa-f]+|[0-9]+)$/;

// \r is escaped so it survives the line-end normalisation every parser applies; in attributes
// tab and newline are too, because parsers normalise them to spaces there.
const TEXT_SPECIAL = /[&<>"'\r]/g;
const ATTR_SPECIAL = /[&<>"'\t\n\r]/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};
const escapeChar = (c: string): string => ESCAPES[c];

const WHITESPACE = ' \t\n\r';
const WHITESPACE_ONLY = /^[ \t\n\r]*$/;

function malformed(message: string): WeftError {
  return new WeftError('MALFORMED_BODY', `malformed XML: ${message}`);
}

function hostile(message: string): WeftError {
  return new WeftError('HOSTILE_XML', message);
}

function position(text: string, index: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `line ${line}, column ${index - lineStart + 1}`;
}

function isXmlCodePoint(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * Replaces the parser's entity decoder: with no DTD only the five predefined entities and
 * character references exist, and anything else is a well-formedness error, not literal text.
 */
function decodeReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (ref: string, body: string, semicolon: string) => {
    if (semicolon === '') throw malformed(`'&' must start a reference ending in ';' (near "${ref.slice(0, 20)}")`);
    const named = PREDEFINED[body];
    if (named !== undefined) return named;
    if (body[0] !== '#') {
      throw malformed(`entity ${ref} is not declared (only &lt; &gt; &amp; &quot; &apos; and character references exist)`);
    }
    if (!CHAR_REFERENCE.test(body)) throw malformed(`${ref} is not a valid character reference`);
    const cp = body[1] === 'x' ? parseInt(body.slice(2), 16) : Number(body.slice(1));
    if (!isXmlCodePoint(cp)) throw malformed(`character reference ${ref} is not an XML character`);
    return String.fromCodePoint(cp);
  });
}

/**
 * Rejects DTDs before any parsing: no DOCTYPE means no entity declarations, so no XXE and no
 * entity expansion. Comments and CDATA are skipped so text quoted inside them is not mistaken.
 */
function checkMarkupDeclarations(text: string): void {
  for (let i = text.indexOf('<!'); i !== -1; i = text.indexOf('<!', i + 2)) {
    if (text.startsWith('<!--', i)) {
      i = text.indexOf('-->', i + 4);
    } else if (text.startsWith('<![CDATA[', i)) {
      i = text.indexOf(']]>', i + 9);
    } else {
      const keyword = text.slice(i + 2, i + 9).toUpperCase();
      if (keyword === 'DOCTYPE' || keyword.startsWith('ENTITY')) {
        throw hostile(`XML with a DOCTYPE or entity declaration is not accepted (${position(text, i)})`);
      }
      throw malformed(`unexpected '<!' markup at ${position(text, i)}`);
    }
    if (i === -1) return; // unterminated comment or CDATA: the validator reports it with its position
  }
}

function validate(text: string): void {
  const result = XMLValidator.validate(text);
  if (result === true) return;
  const { msg, line, col } = result.err;
  // An unclosed deep document makes the validator list every open tag; keep the message readable.
  const what = msg.length > 200 ? `${msg.slice(0, 200)}...` : msg;
  throw malformed(`${what} (line ${line}${col === undefined ? '' : `, column ${col}`})`);
}

/** Index of the first character after whitespace, comments and processing instructions. */
function skipMisc(text: string, i: number): number {
  for (;;) {
    while (i < text.length && WHITESPACE.includes(text[i])) i++;
    const pi = text.startsWith('<?', i);
    if (!pi && !text.startsWith('<!--', i)) return i;
    const close = pi ? '?>' : '-->';
    const end = text.indexOf(close, i + (pi ? 2 : 4));
    if (end === -1) return i;
    i = end + close.length;
  }
}

/**
 * The validator only notices text after the root once the root has a closing tag, so `<a/>text`
 * passes it (and the parser drops the text). For a self-closing root, check the rest ourselves.
 */
function checkAfterSelfClosingRoot(text: string): void {
  let quote = '';
  let i = skipMisc(text, 0) + 1; // just past the root's '<'; the document is known well-formed here
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '>') {
      break;
    }
  }
  if (text[i - 1] !== '/') return;
  const rest = skipMisc(text, i + 1);
  if (rest < text.length) throw malformed(`content after the root element (${position(text, rest)})`);
}

type Plain = Record<string, unknown>;

function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function encodeError(message: string): WeftError {
  return new WeftError('ENCODE', `cannot encode as XML: ${message}`);
}

function checkName(name: string): void {
  if (!XML_NAME.test(name)) throw encodeError(`key ${JSON.stringify(name)} is not a valid XML name`);
  if (RESERVED.has(name)) throw encodeError(`key "${name}" is reserved and cannot be an element name`);
}

function scalarText(value: unknown, key: string): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    case 'object':
      if (value instanceof Date && !Number.isNaN(value.getTime())) return value.toISOString();
      break;
  }
  const kind =
    typeof value === 'object' ? (value?.constructor?.name ?? 'object') : typeof value === 'number' ? String(value) : typeof value;
  throw encodeError(`value of key "${key}" (${kind}) has no XML text form`);
}

function escape(text: string, special: RegExp, key: string): string {
  if (NOT_XML_CHAR.test(text) || !text.isWellFormed()) {
    throw encodeError(`value of key "${key}" contains a character XML cannot represent`);
  }
  return text.replace(special, escapeChar);
}

function invalidOption(message: string): WeftError {
  return new WeftError('FLOW_SCHEMA', `xml options: ${message}`);
}

/**
 * The two ways the codec decodes a document's text. `fast` is one pass over the plain XML most
 * services send and gives up (undefined) on anything else; `general` is fast-xml-parser behind
 * the guards, for everything, with the errors' line and column. Apart so tests can hold one
 * against the other.
 */
export function createXmlDecoders(options: Pick<XmlOptions, 'arrays' | 'maxDepth'> = {}): {
  fast: (text: string) => Plain | undefined;
  general: (text: string) => Plain;
} {
  const maxDepth = options.maxDepth ?? 64;
  const forcedPaths = new Set<string>();
  // Last path segments: most elements are ruled out by one Set lookup, before the path string is built.
  const forcedNames = new Set<string>();
  for (const path of options.arrays ?? []) {
    const segments = path.split('.');
    if (segments.length < 2 || segments.some((s) => !XML_NAME.test(s))) {
      throw invalidOption(`arrays entry ${JSON.stringify(path)} must be a dotted path from the root to an element below it`);
    }
    forcedPaths.add(path);
    forcedNames.add(segments[segments.length - 1]);
  }

  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    textNodeName: TEXT,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    ignoreDeclaration: true,
    ignorePiTags: true,
    entityDecoder: {
      decode: decodeReferences,
      setExternalEntities: () => {},
      addInputEntities: () => {},
      reset: () => {},
      setXmlVersion: () => {},
    },
    // Callbacks get the live matcher instead of a path string built for every element.
    jPath: false,
    // Keep element names exact (the default renames e.g. <toString> to __toString).
    onDangerousProperty: (name) => name,
    // Our depth check below fires first; this only keeps the parser's own limit (100) out of the way.
    maxNestedTags: maxDepth,
    transformTagName: (name) => {
      if (RESERVED.has(name)) throw hostile(`element name <${name}> is not accepted`);
      return name;
    },
    updateTag: (name, matcher) => {
      if (typeof matcher !== 'string' && matcher.getDepth() > maxDepth) {
        throw hostile(`XML is nested deeper than ${maxDepth} elements`);
      }
      return name;
    },
    // Whitespace between child elements is layout; text of a leaf element is kept exactly.
    tagValueProcessor: (_name, value, _matcher, _hasAttributes, isLeaf) =>
      isLeaf || !WHITESPACE_ONLY.test(value) ? value : '',
    isArray: (name, matcher, _isLeaf, isAttribute) =>
      !isAttribute && forcedNames.has(name) && forcedPaths.has(matcher.toString()),
  });

  const fast = createFastXmlDecoder({ maxDepth, forcedPaths, forcedNames, reserved: RESERVED, decodeReferences });

  function general(text: string): Plain {
    checkMarkupDeclarations(text);
    const bad = text.search(NOT_XML_CHAR);
    if (bad !== -1) {
      const code = text.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0');
      throw malformed(`character U+${code} is not allowed in XML (${position(text, bad)})`);
    }
    // Parse before validating: the parser stops at the depth limit after a few hundred bytes,
    // while the validator would first walk a whole hostile document. The parser is lenient, so
    // the validator still decides well-formedness (and reports line and column).
    let value: Plain;
    try {
      value = parser.parse(text);
    } catch (err) {
      if (err instanceof WeftError && err.code === 'HOSTILE_XML') throw err;
      validate(text); // the validator's message says where, when it sees the problem too
      throw err instanceof WeftError ? err : malformed((err as Error).message);
    }
    validate(text);
    // The validator misses a second root when it is self-closing (`<a></a><b/>`); the parser keeps it.
    const roots = Object.keys(value);
    if (roots.length !== 1 || Array.isArray(value[roots[0]])) {
      throw malformed(`a document has one root element, this one has ${roots.map((r) => `<${r}>`).join(', ')}`);
    }
    checkAfterSelfClosingRoot(text);
    return value;
  }

  return { fast, general };
}

/** The XML codec, and for documents assembled around fixed markup (SOAP envelopes) its element writer. */
export interface XmlCodec extends Codec {
  /**
   * `<name ...>` for `value`, without a declaration, as if at nesting `depth`: `attributes`
   * (names without `@`) come first, then the value's own.
   */
  encodeElement(name: string, value: unknown, depth: number, attributes?: Readonly<Record<string, string>>): string;
}

export function createXmlCodec(options: XmlOptions = {}): XmlCodec {
  const maxDepth = options.maxDepth ?? 64;
  const rootName = options.root ?? 'root';
  if (!Number.isInteger(maxDepth) || maxDepth < 1) throw invalidOption(`maxDepth must be a positive integer, not ${maxDepth}`);
  if (!XML_NAME.test(rootName)) throw invalidOption(`root ${JSON.stringify(rootName)} is not a valid XML name`);

  const { fast, general } = createXmlDecoders(options);

  function decode(bytes: Uint8Array): unknown {
    if (bytes.length === 0) throw malformed('body is empty');
    const text = decodeUtf8(bytes);
    // Plain well-formed XML (most answers) is checked and decoded in one pass. Anything else,
    // and every error, takes the general path with its messages, line and column. A character
    // XML forbids goes there too, for its own message.
    return (NOT_XML_CHAR.test(text) ? undefined : fast(text)) ?? general(text);
  }

  /** One element whose content is `value`, after the attributes already written. */
  function element(name: string, value: unknown, depth: number, attributes = ''): string {
    if (depth > maxDepth) throw encodeError(`value is nested deeper than ${maxDepth} elements (at key "${name}")`);
    let content = '';
    if (value === null || value === undefined) {
      // empty element
    } else if (Array.isArray(value)) {
      for (const item of value) content += element(ITEM, item, depth + 1);
    } else if (isPlainObject(value)) {
      for (const key of Object.keys(value)) {
        const child = value[key];
        if (key === TEXT) {
          if (child !== null && child !== undefined) content = escape(scalarText(child, key), TEXT_SPECIAL, key) + content;
        } else if (key.charCodeAt(0) === 64 /* @ */) {
          const attribute = key.slice(1);
          if (!XML_NAME.test(attribute)) throw encodeError(`key ${JSON.stringify(key)} is not a valid XML attribute name`);
          if (child !== null && child !== undefined) {
            attributes += ` ${attribute}="${escape(scalarText(child, key), ATTR_SPECIAL, key)}"`;
          }
        } else {
          checkName(key);
          content += member(key, child, depth + 1);
        }
      }
    } else {
      content = escape(scalarText(value, name), TEXT_SPECIAL, name);
    }
    return content === '' ? `<${name}${attributes}/>` : `<${name}${attributes}>${content}</${name}>`;
  }

  /** The value of an object key: an array is the key's element repeated, anything else one element. */
  function member(name: string, value: unknown, depth: number): string {
    if (!Array.isArray(value)) return element(name, value, depth);
    let xml = '';
    for (const item of value) xml += element(name, item, depth);
    return xml;
  }

  function encode(value: unknown): string {
    if (isPlainObject(value)) {
      const keys = Object.keys(value);
      const only = keys.length === 1 ? keys[0] : undefined;
      // A lone array would be several roots, and `@x` / `#text` belong to an element: both need the wrapper.
      if (only !== undefined && only !== TEXT && only[0] !== '@' && !Array.isArray(value[only])) {
        checkName(only);
        return XML_DECLARATION + element(only, value[only], 1);
      }
    }
    return XML_DECLARATION + element(rootName, value, 1);
  }

  function encodeElement(name: string, value: unknown, depth: number, attributes: Readonly<Record<string, string>> = {}): string {
    checkName(name);
    let written = '';
    for (const key of Object.keys(attributes)) written += ` ${key}="${escape(attributes[key], ATTR_SPECIAL, `@${key}`)}"`;
    return element(name, value, depth, written);
  }

  return { format: 'xml', mediaType: 'application/xml', decode, encode, encodeElement };
}
