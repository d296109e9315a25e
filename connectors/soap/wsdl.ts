/**
 * Reads what a call needs from a WSDL 1.1 document: the target namespace, each operation's
 * SOAPAction per SOAP version, and the service address. Parsed by the XML codec (no DTDs, no
 * entity expansion), namespaces resolved through the document's xmlns declarations.
 */
import { createXmlCodec } from '../../runtime/codecs/xml.ts';
import { WeftError } from '../../runtime/errors.ts';
import { localName, type SoapVersion } from './envelope.ts';

const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
const BINDING_NS: Record<string, SoapVersion> = {
  'http://schemas.xmlsoap.org/wsdl/soap/': '1.1',
  'http://schemas.xmlsoap.org/wsdl/soap12/': '1.2',
};

export interface WsdlOperation {
  name: string;
  /** SOAPAction by SOAP version (a binding per version). */
  actions: Partial<Record<SoapVersion, string>>;
}

export interface Wsdl {
  namespace: string;
  operations: Map<string, WsdlOperation>;
  /** Service address by SOAP version. */
  addresses: Partial<Record<SoapVersion, string>>;
}

type Obj = Record<string, unknown>;
const codec = createXmlCodec({ maxDepth: 256 });
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is Obj => typeof x === 'object' && x !== null);

function invalid(message: string): WeftError {
  return new WeftError('FLOW_WSDL', message);
}

export function parseWsdl(bytes: Uint8Array, source: string): Wsdl {
  let doc: Obj;
  try {
    doc = codec.decode(bytes) as Obj;
  } catch (err) {
    throw invalid(`${source} is not XML: ${(err as Error).message}`);
  }
  const rootKey = Object.keys(doc)[0];
  const root = doc[rootKey] as Obj;
  const prefixes = new Map<string, string>();
  for (const [k, v] of Object.entries(root ?? {})) if (k.startsWith('@xmlns:') && typeof v === 'string') prefixes.set(k.slice(7), v);
  const nsOf = (name: string) => (name.includes(':') ? prefixes.get(name.slice(0, name.indexOf(':'))) : (root['@xmlns'] as string | undefined));
  if (localName(rootKey) !== 'definitions' || nsOf(rootKey) !== WSDL_NS) {
    throw invalid(`${source} is not a WSDL 1.1 document (root element ${rootKey}, expected wsdl:definitions)`);
  }
  const children = (node: Obj, name: string, ns?: string): Obj[] =>
    Object.entries(node).flatMap(([k, v]) => (!k.startsWith('@') && localName(k) === name && (ns === undefined || nsOf(k) === ns) ? list(v) : []));
  const soapChild = (node: Obj, name: string): { version: SoapVersion; el: Obj } | undefined => {
    for (const [k, v] of Object.entries(node)) {
      const version = BINDING_NS[nsOf(k) ?? ''];
      if (version && localName(k) === name) return { version, el: list(v)[0] ?? {} };
    }
    return undefined;
  };

  const namespace = root['@targetNamespace'];
  if (typeof namespace !== 'string') throw invalid(`${source} has no targetNamespace`);
  const operations = new Map<string, WsdlOperation>();
  for (const binding of children(root, 'binding', WSDL_NS)) {
    const version = soapChild(binding, 'binding')?.version;
    if (!version) continue; // an HTTP binding, not SOAP
    for (const op of children(binding, 'operation', WSDL_NS)) {
      const name = op['@name'];
      if (typeof name !== 'string') continue;
      const entry = operations.get(name) ?? { name, actions: {} };
      const action = soapChild(op, 'operation')?.el['@soapAction'];
      entry.actions[version] = typeof action === 'string' ? action : '';
      operations.set(name, entry);
    }
  }
  if (operations.size === 0) throw invalid(`${source} declares no SOAP binding operations`);
  const addresses: Partial<Record<SoapVersion, string>> = {};
  for (const service of children(root, 'service', WSDL_NS)) {
    for (const port of children(service, 'port', WSDL_NS)) {
      const address = soapChild(port, 'address');
      const location = address?.el['@location'];
      if (address && typeof location === 'string') addresses[address.version] ??= location;
    }
  }
  return { namespace, operations, addresses };
}
