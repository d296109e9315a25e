/**
 * The http endpoint with `format: protobuf` against a real loopback backend that decodes and
 * encodes with protobufjs on its own (the peer's view): request bytes of the `request` type,
 * answers decoded with the `response` type, and the failure cases.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, startUpstream, type Upstream } from '../support/upstream.ts';

const PROTO = `syntax = "proto3";
package shipping.v1;
enum Speed { SPEED_UNSPECIFIED = 0; SLOW = 1; FAST = 2; }
message QuoteRequest { string sku = 1; int64 weight_grams = 2; Speed speed = 3; }
message Quote { string sku = 1; int64 cents = 2; Speed speed = 3; bytes label = 4; }
`;

const FLOW = `weft: 1
name: http-protobuf
schemas:
  proto: [proto/shipping.proto]
trigger:
  http: { method: POST, path: "/quote/:kind" }
endpoints:
  shipping:
    http: { url: "\${env.BACKEND}", format: protobuf, request: shipping.v1.QuoteRequest, response: shipping.v1.Quote }
    timeout: 5s
steps:
  - call: shipping
    method: POST
    path: "/\${params.kind}"
    body: '{ "sku": body.sku, "weightGrams": body.grams, "speed": body.speed }'
on_error:
  - respond:
      status: error.status
      body: '{ "code": error.code, "upstream": error.upstream }'
`;

describe('http endpoint with format protobuf', () => {
  let backend: Upstream;
  let flow: TestFlow;
  const root = protobuf.parse(PROTO, { keepCase: false }).root;
  const QuoteRequest = root.lookupType('shipping.v1.QuoteRequest');
  const Quote = root.lookupType('shipping.v1.Quote');

  before(async () => {
    backend = await startUpstream((req, res) => {
      if (req.url === '/ok') {
        const q = QuoteRequest.toObject(QuoteRequest.decode(req.raw), { longs: String, enums: String });
        const answer = Quote.encode(Quote.fromObject({ sku: q.sku, cents: (BigInt(q.weightGrams) * 3n).toString(), speed: q.speed, label: Buffer.from('ok') })).finish();
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        return void res.end(answer);
      }
      if (req.url === '/garbage') {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        return void res.end(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
      }
      json(res, 404, { error: 'no such route' });
    });
    flow = await startTestFlow(FLOW, { files: { 'proto/shipping.proto': PROTO }, env: { BACKEND: backend.url } });
  });
  after(async () => {
    await flow.stop();
    await backend.close();
  });

  const post = (kind: string, body: unknown) =>
    flow.fetch(`/quote/${kind}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('sends the request type as protobuf and decodes the answer with the response type', async () => {
    const res = await post('ok', { sku: 'A-1', grams: '3002399751580331', speed: 'FAST' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sku: 'A-1', cents: '9007199254740993', speed: 'FAST', label: Buffer.from('ok').toString('base64') });
    const sent = backend.requests.at(-1)!;
    assert.equal(sent.headers['content-type'], 'application/x-protobuf');
    assert.equal(sent.headers.accept, 'application/x-protobuf');
    // The backend's own decoder saw exactly the fields, int64 intact.
    assert.deepEqual(QuoteRequest.toObject(QuoteRequest.decode(sent.raw), { longs: String, enums: String }), { sku: 'A-1', weightGrams: '3002399751580331', speed: 'FAST' });
  });

  it('an answer that is not valid protobuf is 502 UPSTREAM_MALFORMED', async () => {
    const res = await post('garbage', { sku: 'x', grams: 1 });
    assert.equal(res.status, 502);
    assert.equal(((await res.json()) as { code: string }).code, 'UPSTREAM_MALFORMED');
  });

  it('an error status keeps its JSON body readable by its own Content-Type', async () => {
    const res = await post('elsewhere', { sku: 'x', grams: 1 });
    assert.equal(res.status, 502);
    const answer = (await res.json()) as { code: string; upstream: { status: number; body: unknown; headers: Record<string, string> } };
    assert.equal(answer.code, 'UPSTREAM_STATUS');
    assert.equal(answer.upstream.status, 404);
    assert.deepEqual(answer.upstream.body, { error: 'no such route' });
    assert.equal(answer.upstream.headers['content-type'], 'application/json');
  });

  it('a body that does not fit the request type is ENCODE and nothing is sent', async () => {
    const before = backend.requests.length;
    const res = await post('ok', { sku: 'x', grams: 'heavy' });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { code: string }).code, 'ENCODE');
    assert.equal(backend.requests.length, before);
  });
});
