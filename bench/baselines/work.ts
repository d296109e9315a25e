/**
 * What every hand-written baseline does per scenario, written once so the node:http and the
 * hono baseline do exactly the same work: undici keep-alive pool to the backend, the SOAP
 * envelope built and the answer parsed with fast-xml-parser (the library Weft uses).
 */
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { Pool } from 'undici';
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

export function config(): { port: number; backendUrl: string } {
  const port = Number(process.env.PORT);
  const backendUrl = process.env.BACKEND_URL;
  if (!port || !backendUrl) throw new Error('set PORT and BACKEND_URL');
  return { port, backendUrl };
}
