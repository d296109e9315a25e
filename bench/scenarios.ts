/**
 * The benchmark scenarios: what a client sends to the target, and what the static backend
 * answers. Every target (Weft flow, hand-written baselines, nginx, Node-RED) implements the same
 * contract, and test/integration/bench-targets.test.ts checks that they answer the same body.
 */
import { orderProtobuf } from './lib/order.ts';

export const SCENARIO_IDS = ['s1', 's2', 's3', 's4', 's5'] as const;
export type ScenarioId = (typeof SCENARIO_IDS)[number];

export interface Scenario {
  id: ScenarioId;
  title: string;
  /** Request the load generator sends to the target. */
  method: 'GET' | 'POST';
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
}

export const SCENARIOS: Record<ScenarioId, Scenario> = {
  s1: { id: 's1', title: 'S1 passthrough GET (JSON)', method: 'GET', path: '/items/42' },
  s2: {
    id: 's2',
    title: 'S2 JSON -> SOAP -> JSON',
    method: 'POST',
    path: '/quotes',
    body: JSON.stringify({ sku: 'A-42', qty: 3 }),
    contentType: 'application/json',
  },
  s3: { id: 's3', title: 'S3 scatter-gather (3 GETs)', method: 'GET', path: '/overview/42' },
  // S4 is startup and memory: exec -> first successful S1 answer; it reuses S1's request.
  s4: { id: 's4', title: 'S4 startup and RSS', method: 'GET', path: '/items/42' },
  // S5: the ~1 KB order (bench/lib/order.ts) as ProtoBuf, priced by the Thrift backend
  // (bench/thrift-backend.ts), answered as JSON. The body is encoded on first use, so that
  // importing the scenarios (the baselines do) does not load protobufjs.
  s5: {
    id: 's5',
    title: 'S5 ProtoBuf -> Thrift -> JSON',
    method: 'POST',
    path: '/orders/price',
    contentType: 'application/x-protobuf',
    get body() {
      return orderProtobuf();
    },
  },
};

/** Scenarios measured with the load generator (S4 is measured by the startup probe). */
export const LOAD_SCENARIOS: ScenarioId[] = ['s1', 's2', 's3', 's5'];

/** The SOAP service S2 talks to: namespace, operation and SOAPAction, shared by every target. */
export const SOAP = {
  namespace: 'urn:bench:quotes',
  operation: 'getQuote',
  action: 'urn:bench:quotes/getQuote',
  envelopeNs: 'http://schemas.xmlsoap.org/soap/envelope/',
} as const;

/** What the static backend serves: path -> [content type, body]. */
export const BACKEND: Record<string, [string, string]> = {
  '/items/42': [
    'application/json',
    JSON.stringify({
      id: '42',
      name: 'Walnut desk',
      price: 249.5,
      tags: ['furniture', 'office', 'wood'],
      stock: { warehouse: 'north', available: 17 },
    }),
  ],
  '/quote': [
    'text/xml; charset=utf-8',
    `<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="${SOAP.envelopeNs}"><soap:Body>` +
      `<q:getQuoteResponse xmlns:q="${SOAP.namespace}"><q:getQuoteResult><q:sku>A-42</q:sku><q:unitPrice>12.25</q:unitPrice>` +
      `<q:qty>3</q:qty><q:total>36.75</q:total><q:currency>EUR</q:currency></q:getQuoteResult></q:getQuoteResponse>` +
      `</soap:Body></soap:Envelope>`,
  ],
  '/customers/42': ['application/json', JSON.stringify({ id: '42', name: 'Ada Lovelace', tier: 'gold' })],
  '/orders/42': ['application/json', JSON.stringify({ items: [{ id: 'o-1', total: 30 }, { id: 'o-2', total: 12.5 }] })],
  '/stock/42': ['application/json', JSON.stringify({ sku: '42', available: 17 })],
};

/** The S3 fan-out: branch name -> backend path, merged as { branch: answer }. */
export const S3_BRANCHES = { customer: '/customers/42', orders: '/orders/42', stock: '/stock/42' } as const;
