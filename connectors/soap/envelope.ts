/**
 * SOAP 1.1 and 1.2 envelopes as values of the XML convention (docs/xml-convention.md): the
 * request is built as a value and encoded by the XML codec; the answer is decoded by it (with
 * its guards against hostile XML) and then unwrapped: the body element's content, or a Fault.
 */
import { XML_DECLARATION, type XmlCodec } from '../../runtime/codecs/xml.ts';
import { WeftError } from '../../runtime/errors.ts';

export type SoapVersion = '1.1' | '1.2';

export const ENVELOPE_NS: Record<SoapVersion, string> = {
  '1.1': 'http://schemas.xmlsoap.org/soap/envelope/',
  '1.2': 'http://www.w3.org/2003/05/soap-envelope',
};

export const MEDIA_TYPE: Record<SoapVersion, string> = { '1.1': 'text/xml', '1.2': 'application/soap+xml' };

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const localName = (name: string): string => name.slice(name.indexOf(':') + 1);

/** The operation element's content: the body's parts. */
function partsOf(operation: string, body: unknown): Obj {
  if (body === undefined || body === null || body === '') return {};
  if (isObject(body)) return body;
  throw new WeftError('ENCODE', `the body of SOAP operation ${operation} must be an object of its parts, not ${Array.isArray(body) ? 'an array' : typeof body}`);
}

const isPlainObject = (v: unknown): v is Obj => isObject(v) && Object.getPrototypeOf(v) === Object.prototype;

/** The fixed markup of every request envelope, per version. */
const START: Record<SoapVersion, string> = {
  '1.1': `${XML_DECLARATION}<soap:Envelope xmlns:soap="${ENVELOPE_NS['1.1']}">`,
  '1.2': `${XML_DECLARATION}<soap:Envelope xmlns:soap="${ENVELOPE_NS['1.2']}">`,
};
const END = '</soap:Body></soap:Envelope>';

/**
 * The request envelope as XML text, as `codec.encode(envelope(...))` writes it. The markup
 * around the operation element is fixed strings; only header entries and body parts are
 * encoded per message. Rare shapes (a body that is not a plain object or sets its own
 * xmlns, headers that are not an object) take the value path.
 */
export function envelopeXml(codec: XmlCodec, version: SoapVersion, headers: Obj | undefined, operation: string, namespace: string, body: unknown): string {
  const content = partsOf(operation, body);
  const withHeaders = headers !== undefined && Object.keys(headers).length > 0;
  if (!isPlainObject(content) || Object.hasOwn(content, '@xmlns') || (withHeaders && !isPlainObject(headers))) {
    return codec.encode(envelope(version, headers, operation, namespace, body)) as string;
  }
  const head = withHeaders ? codec.encodeElement('soap:Header', headers, 2) : '';
  return `${START[version]}${head}<soap:Body>${codec.encodeElement(operation, content, 3, { xmlns: namespace })}${END}`;
}

/** `<soap:Envelope>` with optional header entries and the operation element in its namespace. */
export function envelope(version: SoapVersion, headers: Obj | undefined, operation: string, namespace: string, body: unknown): Obj {
  const content = partsOf(operation, body);
  const env: Obj = { '@xmlns:soap': ENVELOPE_NS[version] };
  if (headers && Object.keys(headers).length > 0) env['soap:Header'] = headers;
  // A default namespace on the operation element qualifies its unprefixed children too
  // (elementFormDefault="qualified", what WSDL generators emit by default).
  env['soap:Body'] = { [operation]: { '@xmlns': namespace, ...content } };
  return { 'soap:Envelope': env };
}

export interface SoapFault {
  code: string;
  reason: string;
  subcode?: string;
  actor?: string;
  detail: unknown;
}

/** The parts of a decoded answer: the first body element (name and content), or a fault. */
export type SoapAnswer = { kind: 'result'; name: string; value: unknown } | { kind: 'fault'; fault: SoapFault } | { kind: 'empty' };

/** Unwraps a decoded document; undefined when it is not a SOAP envelope at all. */
export function unwrap(doc: unknown, arrays: ReadonlySet<string>): SoapAnswer | undefined {
  if (!isObject(doc)) return undefined;
  const rootKey = Object.keys(doc)[0];
  if (rootKey === undefined || localName(rootKey) !== 'Envelope' || !isObject(doc[rootKey])) return undefined;
  const env = doc[rootKey] as Obj;
  const bodyKey = Object.keys(env).find((k) => localName(k) === 'Body');
  if (bodyKey === undefined) return undefined;
  const body = env[bodyKey];
  const first = isObject(body) ? Object.keys(body).find((k) => !k.startsWith('@') && k !== '#text') : undefined;
  if (first === undefined) return { kind: 'empty' };
  const name = localName(first);
  const content = plain((body as Obj)[first], name, arrays);
  if (name === 'Fault') return { kind: 'fault', fault: faultOf(content) };
  return { kind: 'result', name, value: content };
}

/**
 * Strips namespace prefixes from element names and drops xmlns declarations, so flows write
 * `vars.order.total`, whatever prefix the service uses; forces the listed paths to arrays.
 * Runs on every answer: keys are walked without an entries array, and the dotted path is only
 * built when some path is forced.
 */
function plain(value: unknown, path: string, arrays: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((v) => plain(v, path, arrays));
  if (!isObject(value)) return value;
  const out: Obj = {};
  let only: string | undefined; // the one key so far, to see a text-only element
  let count = 0;
  for (const k in value) {
    const at = k.charCodeAt(0) === 64; // '@'
    if (at && (k === '@xmlns' || k.startsWith('@xmlns:'))) continue;
    const name = k.indexOf(':') === -1 ? k : at ? `@${localName(k.slice(1))}` : localName(k);
    const childPath = arrays.size === 0 ? '' : `${path}.${name}`;
    const child = plain(value[k], childPath, arrays);
    out[name] = arrays.size !== 0 && arrays.has(childPath) && !Array.isArray(child) ? [child] : child;
    only = name;
    count++;
  }
  return count === 1 && only === '#text' ? out['#text'] : out;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : isObject(v) && typeof v['#text'] === 'string' ? v['#text'] : undefined;

function faultOf(f: unknown): SoapFault {
  const o = isObject(f) ? f : {};
  if ('Code' in o || 'Reason' in o) {
    // SOAP 1.2: Code/Value, Code/Subcode/Value, Reason/Text (maybe several languages), Detail.
    const code = isObject(o.Code) ? o.Code : {};
    const sub = isObject(code.Subcode) ? text(code.Subcode.Value) : undefined;
    const reasons = isObject(o.Reason) ? o.Reason.Text : undefined;
    const reason = text(Array.isArray(reasons) ? reasons[0] : reasons) ?? '';
    return { code: localName(text(code.Value) ?? ''), reason, subcode: sub, actor: text(o.Role) || undefined, detail: o.Detail ?? null };
  }
  return {
    code: localName(text(o.faultcode) ?? ''),
    reason: text(o.faultstring) ?? '',
    actor: text(o.faultactor) || undefined,
    detail: o.detail ?? null,
  };
}
