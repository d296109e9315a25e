/**
 * The grpc endpoint against a server built with the official Python gRPC stack (python3-grpcio,
 * stubs generated at test time by protoc and grpc_python_plugin): the proto3 JSON mapping both
 * ways, metadata from headers, the deadline sent to the server, status codes mapped to error
 * codes and HTTP statuses, the endpoint timeout, and load errors at their position.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertProblem, loadProblems, startTestFlow, type TestFlow } from '../support/flow.ts';
import { generate, peerSkip, PEERS, startPythonServer, tempDir, type PythonServer } from '../support/python-peer.ts';

const PROTO = `syntax = "proto3";
package shipping.v1;
enum Speed { SPEED_UNSPECIFIED = 0; SLOW = 1; FAST = 2; }
message QuoteRequest { string sku = 1; int64 weight_grams = 2; bool express = 3; repeated string tags = 4; }
message Quote {
  string sku = 1; int64 cents = 2; Speed speed = 3; string tenant = 4;
  string request_id = 5; bool has_deadline = 6; repeated string tags = 7;
}
service Shipping {
  rpc GetQuote(QuoteRequest) returns (Quote);
  rpc Slow(QuoteRequest) returns (Quote);
  rpc Track(QuoteRequest) returns (stream Quote);
}
`;

const FLOW = `weft: 1
name: grpc-interop
schemas:
  proto: [proto/shipping.proto]
trigger:
  http: { method: POST, path: "/:op" }
endpoints:
  shipping:
    grpc: { url: "\${env.SHIPPING}", service: shipping.v1.Shipping, headers: { x-tenant: "acme" } }
    timeout: 20s
  impatient:
    grpc: { url: "\${env.SHIPPING}", service: shipping.v1.Shipping }
    timeout: 300ms
steps:
  - choice:
      - when: params.op = "quote"
        steps:
          - call: shipping
            operation: GetQuote
            args: '{ "sku": body.sku, "weightGrams": body.grams, "express": body.express, "tags": body.tags }'
      - when: params.op = "slow"
        steps: [{ call: impatient, operation: Slow, args: '{ "sku": "s" }' }]
on_error:
  - respond:
      status: error.status
      body: '{ "code": error.code, "grpc": error.grpc }'
`;

const skip = peerSkip([['protoc', '--version'], ['test', '-x', '/usr/bin/grpc_python_plugin']], ['grpc', 'google.protobuf']);

describe('grpc endpoint against python3-grpcio', { skip }, () => {
  const dir = tempDir('weft-grpc-');
  let server: PythonServer;
  let flow: TestFlow;
  before(async () => {
    writeFileSync(join(dir.path, 'shipping.proto'), PROTO);
    generate('protoc', ['-I.', '--python_out=.', '--grpc_out=.', '--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin', 'shipping.proto'], dir.path);
    server = await startPythonServer(join(PEERS, 'grpc_server.py'), [dir.path]);
    flow = await startTestFlow(FLOW, { files: { 'proto/shipping.proto': PROTO }, env: { SHIPPING: `127.0.0.1:${server.port}` } });
  });
  after(async () => {
    await flow?.stop();
    await server?.stop();
    dir.remove();
  });

  const post = (op: string, body: unknown, headers: Record<string, string> = {}) =>
    flow.fetch(`/${op}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });

  it('calls a unary method: int64 exact, enums by name, metadata from headers, a deadline sent', async () => {
    const res = await post('quote', { sku: 'A-1', grams: '3002399751580331', express: true, tags: ['x', 'y'] }, { 'x-request-id': 'req-42' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), {
      sku: 'A-1',
      cents: '9007199254740993',
      speed: 'FAST',
      tenant: 'acme',
      requestId: 'req-42',
      hasDeadline: true,
      tags: ['x', 'y'],
    });
  });

  it('NOT_FOUND is GRPC_STATUS with 404, the message and trailing metadata', async () => {
    const res = await post('quote', { sku: 'missing' });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { code: string; grpc: { code: number; status: string; message: string; metadata: Record<string, string> } };
    assert.equal(body.code, 'GRPC_STATUS');
    assert.equal(body.grpc.code, 5);
    assert.equal(body.grpc.status, 'NOT_FOUND');
    assert.equal(body.grpc.message, 'no such sku: missing');
    assert.equal(body.grpc.metadata['x-reason'], 'no-such-sku');
  });

  it('PERMISSION_DENIED answers 403', async () => {
    const res = await post('quote', { sku: 'denied' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { grpc: { status: string } }).grpc.status, 'PERMISSION_DENIED');
  });

  it('a slow method hits the endpoint timeout (TIMEOUT, 504), and the channel keeps serving', async () => {
    const res = await post('slow', {});
    assert.equal(res.status, 504);
    assert.equal(((await res.json()) as { code: string }).code, 'TIMEOUT');
    assert.equal((await post('quote', { sku: 'after' })).status, 200);
  });

  it('a body that does not fit the request type is ENCODE, before anything is sent', async () => {
    const res = await post('quote', { sku: 'x', grams: 'many' });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as { code: string }).code, 'ENCODE');
  });
});

describe('grpc endpoint without a peer', () => {
  it('an unreachable server is CONNECTION_FAILED with 503', async () => {
    const flow = await startTestFlow(FLOW, { files: { 'proto/shipping.proto': PROTO }, env: { SHIPPING: '127.0.0.1:1' } });
    try {
      const res = await flow.fetch('/quote', { method: 'POST', body: '{"sku":"x"}', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 503);
      const body = (await res.json()) as { code: string; grpc: { status: string } };
      assert.equal(body.code, 'CONNECTION_FAILED');
      assert.equal(body.grpc.status, 'UNAVAILABLE');
    } finally {
      await flow.stop();
    }
  });

  it('unknown service, operation, arg and a streaming method are load errors at their position', async () => {
    const yaml = `weft: 1
name: grpc-bad
schemas:
  proto: [proto/shipping.proto]
trigger:
  http: { method: POST, path: /x }
endpoints:
  shipping:
    grpc: { url: "127.0.0.1:1", service: shipping.v1.Shipping }
  other:
    grpc: { url: "127.0.0.1:1", service: shipping.v1.Shiping }
steps:
  - call: shipping
    operation: GetQuotes
  - call: shipping
    operation: GetQuote
    args: '{ "sku": "a", "weight": 1 }'
  - call: shipping
    operation: Track
`;
    const found = await loadProblems(yaml, { 'proto/shipping.proto': PROTO });
    const expect = (line: number, re: RegExp) => assertProblem(found, line, re);
    expect(11, /unknown ProtoBuf service 'shipping.v1.Shiping'; did you mean 'shipping.v1.Shipping'/);
    expect(14, /has no operation 'GetQuotes'; did you mean 'GetQuote'/);
    expect(17, /no parameter 'weight'/);
    expect(19, /Track is a streaming method/);
  });
});
