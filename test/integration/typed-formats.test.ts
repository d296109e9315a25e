/** ProtoBuf and Thrift bodies at the http trigger and in respond, through real flows on loopback. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { FlowLoadError } from '../../runtime/errors.ts';
import { startTestFlow, type TestFlow } from '../support/flow.ts';

const PROTO = `syntax = "proto3";
package shipping.v1;
import "google/protobuf/timestamp.proto";
enum Speed { SPEED_UNSPECIFIED = 0; FAST = 1; }
message Quote { string sku = 1; int64 cents = 2; Speed speed = 3; google.protobuf.Timestamp at = 4; }
`;
const THRIFT = `namespace py inventory
struct Item { 1: required string sku, 2: i64 cents, 3: optional list<string> tags }
`;

const FLOW = `weft: 1
name: typed-formats
schemas:
  proto: [proto/quote.proto]
  thrift: [idl/inventory.thrift]
trigger:
  http:
    method: POST
    path: /quote
    accept: [protobuf, json]
    message: shipping.v1.Quote
steps:
  - choice:
      - when: query.out = "thrift"
        steps:
          - respond:
              body: '{ "sku": body.sku, "cents": body.cents, "tags": [body.speed] }'
              format: thrift
              struct: inventory.Item
              thrift: { protocol: compact }
`;

describe('protobuf and thrift at the http trigger', () => {
  let flow: TestFlow;
  let Quote: protobuf.Type;
  before(async () => {
    flow = await startTestFlow(FLOW, { files: { 'proto/quote.proto': PROTO, 'idl/inventory.thrift': THRIFT } });
    // The peer's view: protobufjs on its own, with the well-known Timestamp it imports.
    const root = protobuf.Root.fromJSON(protobuf.common.get('google/protobuf/timestamp.proto')!);
    Quote = protobuf.parse(PROTO, root, { keepCase: false }).root.lookupType('shipping.v1.Quote');
  });
  after(() => flow.stop());

  const post = (path: string, body: Uint8Array | string, headers: Record<string, string>) =>
    flow.fetch(path, { method: 'POST', body: body as RequestInit["body"], headers });

  it('decodes protobuf with the proto3 JSON mapping and answers JSON when asked', async () => {
    const bytes = Quote.encode(Quote.fromObject({ sku: 'A-1', cents: '9007199254740993', speed: 1, at: { seconds: 1700000000, nanos: 5000000 } })).finish();
    const res = await post('/quote', bytes, { 'content-type': 'application/x-protobuf', accept: 'application/json' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { sku: 'A-1', cents: '9007199254740993', speed: 'FAST', at: '2023-11-14T22:13:20.005Z' });
  });

  it('answers protobuf by default when the request was protobuf, bytes decodable by protobufjs', async () => {
    const res = await post('/quote', '{"sku":"B","cents":"12","speed":"FAST"}', { 'content-type': 'application/json', accept: 'application/x-protobuf' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const q = Quote.toObject(Quote.decode(new Uint8Array(await res.arrayBuffer())), { longs: String, enums: String });
    assert.deepEqual(q, { sku: 'B', cents: '12', speed: 'FAST' });
  });

  it('answers thrift compact with the struct a respond step names', async () => {
    const res = await post('/quote?out=thrift', '{"sku":"C","cents":-7,"speed":"FAST"}', { 'content-type': 'application/json' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-thrift');
    // compact: field 1 string "C", field 2 i64 zigzag(-7)=0x0d, field 3 list<string> ["FAST"], stop
    assert.equal(Buffer.from(await res.arrayBuffer()).toString('hex'), '180143160d1918044641535400');
  });

  for (const [what, hex] of [
    ['truncated', '0a05'],
    ['garbage', 'ffffffffffff'],
    ['a length prefix that claims 2^31 bytes', '0affffffff07'],
  ] as const) {
    it(`answers 400 MALFORMED_BODY to a ${what} protobuf body and keeps serving`, async () => {
      const res = await post('/quote', Buffer.from(hex, 'hex'), { 'content-type': 'application/x-protobuf' });
      assert.equal(res.status, 400);
      const problem = (await res.json()) as { code: string; detail: string };
      assert.equal(problem.code, 'MALFORMED_BODY');
      assert.match(problem.detail, /malformed ProtoBuf/);
    });
  }

  it('refuses a JSON body the message type cannot hold with 500 ENCODE when protobuf is wanted', async () => {
    const res = await post('/quote', '{"sku":"B","speed":"SLOW"}', { 'content-type': 'application/json', accept: 'application/x-protobuf' });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { code: string }).code, 'ENCODE');
  });
});

describe('schemas: load errors', () => {
  it('reports an unknown message and struct name at its position, with a suggestion', async () => {
    const bad = FLOW.replace('message: shipping.v1.Quote', 'message: shipping.v1.Qoute').replace('struct: inventory.Item', 'struct: inventory.Itme');
    await assert.rejects(
      startTestFlow(bad, { files: { 'proto/quote.proto': PROTO, 'idl/inventory.thrift': THRIFT } }),
      (err: unknown) => {
        assert.ok(err instanceof FlowLoadError);
        const [m, s] = err.problems;
        assert.equal(m.code, 'FLOW_REFERENCE');
        assert.match(m.message, /unknown ProtoBuf message 'shipping\.v1\.Qoute'; did you mean 'shipping\.v1\.Quote'/);
        assert.equal(m.line, 11);
        assert.match(s.message, /unknown Thrift struct 'inventory\.Itme'; did you mean 'inventory\.Item'/);
        return true;
      },
    );
  });

  it('reports an IDL syntax error against the schemas entry', async () => {
    await assert.rejects(
      startTestFlow(FLOW, { files: { 'proto/quote.proto': PROTO, 'idl/inventory.thrift': 'struct Item { 1: string }' } }),
      (err: unknown) => err instanceof FlowLoadError && err.problems.some((p) => p.code === 'FLOW_FILE' && /inventory\.thrift/.test(p.message) && p.line === 5),
    );
  });
});
