/**
 * What every hand-written baseline does per scenario, written once so the node:http and the
 * hono baseline do exactly the same work: undici keep-alive pool to the backend, the SOAP
 * envelope built and the answer parsed with fast-xml-parser (the library Weft uses).
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { Pool } from 'undici';
import { loadGeneratedOrder, type GeneratedOrder, type ThriftStructInstance } from '../lib/codegen.ts';
import { S3_BRANCHES, SOAP } from '../scenarios.ts';

export interface Answer {
  status: number;
  contentType: string;
  body: string | Buffer;
}

/** fast-xml-parser options of every baseline (Node-RED's flow gets the same). */
export const XML_BUILDER_OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', suppressEmptyNode: true };
export const XML_PARSER_OPTIONS = { ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true, parseTagValue: false, ignoreDeclaration: true };
const builder = new XMLBuilder(XML_BUILDER_OPTIONS);
const parser = new XMLParser(XML_PARSER_OPTIONS);

const JSON_TYPE = 'application/json';
const failed = (status: number, why: string): Answer => ({ status: 502, contentType: JSON_TYPE, body: JSON.stringify({ error: why, status }) });

export function upstream(backendUrl: string): Pool {
  return new Pool(backendUrl, { keepAliveTimeout: 4_000 });
}

/** S1: GET the item and pass its bytes through. */
export async function passthrough(pool: Pool, id: string): Promise<Answer> {
  const res = await pool.request({ method: 'GET', path: `/items/${encodeURIComponent(id)}`, headers: { accept: JSON_TYPE } });
  const body = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode >= 400) return failed(res.statusCode, 'upstream');
  return { status: 200, contentType: String(res.headers['content-type'] ?? JSON_TYPE), body };
}

/** S2: JSON in -> SOAP 1.1 getQuote -> parse the XML answer -> JSON out. */
export async function quote(pool: Pool, input: { sku?: unknown; qty?: unknown }): Promise<Answer> {
  const xml = builder.build({
    'soap:Envelope': {
      '@xmlns:soap': SOAP.envelopeNs,
      'soap:Body': { [SOAP.operation]: { '@xmlns': SOAP.namespace, sku: input.sku, qty: input.qty } },
    },
  }) as string;
  const res = await pool.request({
    method: 'POST',
    path: '/quote',
    headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: `"${SOAP.action}"` },
    body: xml,
  });
  const text = await res.body.text();
  if (res.statusCode >= 400) return failed(res.statusCode, 'soap');
  const r = parser.parse(text).Envelope.Body.getQuoteResponse.getQuoteResult;
  const answer = { sku: r.sku, unitPrice: Number(r.unitPrice), qty: Number(r.qty), total: Number(r.total), currency: r.currency };
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(answer) };
}

/** S3: three GETs at once, merged into one object by branch name. */
export async function overview(pool: Pool, id: string): Promise<Answer> {
  const names = Object.keys(S3_BRANCHES) as (keyof typeof S3_BRANCHES)[];
  const parts = await Promise.all(
    names.map(async (name) => {
      const path = S3_BRANCHES[name].replace('42', encodeURIComponent(id));
      const res = await pool.request({ method: 'GET', path, headers: { accept: JSON_TYPE } });
      const value: unknown = await res.body.json();
      return res.statusCode >= 400 ? undefined : value;
    }),
  );
  if (parts.includes(undefined)) return failed(502, 'upstream');
  const merged: Record<string, unknown> = {};
  names.forEach((n, i) => (merged[n] = parts[i]));
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(merged) };
}

// ---------------------------------------------------------------- S5

/** protobufjs's 64-bit values (the `long` package) as the pbjs static code decodes them. */
interface Long {
  toBytesBE(): number[];
}
interface PbOrder {
  id: Long;
  customer?: { id: Long; name: string; email: string; shipTo?: object };
  lines: { sku: string; title: string; qty: number; cents: Long; weight: number; tags: string[] }[];
  attributes: Record<string, string>;
  status: number;
  createdMs: Long;
  note: string;
  gift: boolean;
}
type Int64 = { buffer: Buffer; offset: number };

let pricing: { g: GeneratedOrder; price(order: ThriftStructInstance): Promise<ThriftStructInstance> } | undefined;

/** The generated Thrift client on one connection to THRIFT_URL, made on the first S5 request. */
function pricingClient(): NonNullable<typeof pricing> {
  if (pricing) return pricing;
  const g = loadGeneratedOrder();
  const url = new URL(process.env.THRIFT_URL ?? '');
  const connection = g.thrift.createConnection(url.hostname, Number(url.port), { transport: g.thrift.TFramedTransport, protocol: g.thrift.TBinaryProtocol });
  connection.on('error', (e) => console.error('thrift connection:', (e as Error).message));
  const client = g.thrift.createClient(g.Pricing, connection);
  // Callback style: the 0.17 compiler's promise style needs thrift.Q, which thrift 0.24 dropped.
  const price = (order: ThriftStructInstance) =>
    new Promise<ThriftStructInstance>((resolve, reject) => client.price(order, (err: unknown, r: unknown) => (err ? reject(err) : resolve(r as ThriftStructInstance))));
  return (pricing = { g, price });
}

const statusNames = new Map<number, string>();
/** i64 as Weft's JSON writes it: a number when safe, else the exact digits. */
function int64Json(v: Int64): unknown {
  const n = v.buffer.readBigInt64BE(v.offset);
  return n >= -9007199254740991n && n <= 9007199254740991n ? Number(n) : (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(n.toString());
}

/** S5: ProtoBuf order in (pbjs static code) -> Pricing.price over Thrift (generated client) -> JSON out. */
export async function priceOrder(bytes: Uint8Array): Promise<Answer> {
  const { g, price } = pricingClient();
  let m: PbOrder;
  try {
    m = g.pb.Order.decode(bytes) as unknown as PbOrder;
  } catch (e) {
    return { status: 400, contentType: JSON_TYPE, body: JSON.stringify({ error: (e as Error).message }) };
  }
  const int64 = (l: Long) => new g.Int64(Buffer.from(l.toBytesBE()));
  const order = new g.types.Order({
    id: int64(m.id),
    customer: m.customer && { ...m.customer, id: int64(m.customer.id) },
    lines: m.lines.map((l) => ({ ...l, cents: int64(l.cents) })),
    attributes: m.attributes,
    status: m.status,
    createdMs: int64(m.createdMs),
    note: m.note,
    gift: m.gift,
  });
  let r: ThriftStructInstance;
  try {
    r = await price(order);
  } catch {
    return failed(502, 'thrift');
  }
  if (statusNames.size === 0) for (const [name, n] of Object.entries(g.types.Status)) statusNames.set(n, name);
  const answer = { orderId: int64Json(r.orderId as Int64), status: statusNames.get(r.status as number), items: r.items, totalCents: int64Json(r.totalCents as Int64), currency: r.currency };
  return { status: 200, contentType: JSON_TYPE, body: JSON.stringify(answer) };
}

export function config(): { port: number; backendUrl: string } {
  const port = Number(process.env.PORT);
  const backendUrl = process.env.BACKEND_URL;
  if (!port || !backendUrl) throw new Error('set PORT and BACKEND_URL');
  return { port, backendUrl };
}
