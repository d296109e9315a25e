/**
 * The binary-format example flows against official peers: protobuf-to-thrift.yaml calls an
 * Apache Thrift server in Python (code generated from flows/idl/pricing.thrift at test time),
 * json-to-grpc.yaml calls a python3-grpcio server (stubs from flows/proto/shipping.proto),
 * quote-aggregator.yaml calls both in parallel, xml-to-thrift.yaml answers ProtoBuf.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger } from '../../runtime/log.ts';
import { generate, peerSkip, PEERS, startPythonServer, tempDir, type PythonServer } from '../support/python-peer.ts';

const FLOWS = join(import.meta.dirname, '../../flows');

function start(name: string, env: Record<string, string>): Promise<RunningFlow> {
  return startFlow(join(FLOWS, name), { port: 0, adminPort: 0, host: '127.0.0.1', log: silentLogger(), env: { ...process.env, ...env } });
}

const THRIFT_PEER = peerSkip([['thrift', '--version']], ['thrift']);
const GRPC_PEER = peerSkip([['protoc', '--version'], ['test', '-x', '/usr/bin/grpc_python_plugin']], ['grpc', 'google.protobuf']);

/** Apache Thrift's Python server for flows/idl/pricing.thrift (framed, compact), code generated into `dir`. */
function thriftPeer(dir: string): Promise<PythonServer> {
  generate('thrift', ['--gen', 'py', '-out', dir, join(FLOWS, 'idl/pricing.thrift')], dir);
  return startPythonServer(join(PEERS, 'thrift_server.py'), [dir, 'framed', 'compact']);
}

/** A python3-grpcio server for flows/proto/shipping.proto, stubs generated into `dir`. */
function grpcPeer(dir: string): Promise<PythonServer> {
  generate('protoc', [`-I${join(FLOWS, 'proto')}`, `--python_out=${dir}`, `--grpc_out=${dir}`, '--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin', 'shipping.proto'], dir);
  return startPythonServer(join(PEERS, 'grpc_server.py'), [dir]);
}

describe('protobuf-to-thrift.yaml', { skip: THRIFT_PEER }, () => {
  const dir = tempDir('weft-flow-thrift-');
  let server: PythonServer;
  let flow: RunningFlow;
  let QuoteRequest: protobuf.Type;
  before(async () => {
    server = await thriftPeer(dir.path);
    flow = await start('protobuf-to-thrift.yaml', { PRICING_THRIFT_URL: `tcp://127.0.0.1:${server.port}` });
    QuoteRequest = protobuf.loadSync(join(FLOWS, 'proto/pricing-api.proto')).lookupType('pricing.api.v1.QuoteRequest');
  });
  after(async () => {
    await flow?.stop();
    await server?.stop();
    dir.remove();
  });

  const post = (body: Uint8Array) =>
    fetch(`${flow.url}/quotes`, { method: 'POST', body: body as RequestInit['body'], headers: { 'content-type': 'application/x-protobuf' } });

  it('a ProtoBuf request becomes a Thrift call; the answer is JSON with i64 exact', async () => {
    const res = await post(QuoteRequest.encode({ sku: 'A-1', qty: 2 }).finish());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(await res.text(), '{"sku":"A-1","quantity":2,"totalCents":18014398509481986,"tags":["py","framed"]}');
  });

  it("the service's NotFound exception becomes a 404 the flow writes", async () => {
    const res = await post(QuoteRequest.encode({ sku: 'missing', qty: 1 }).finish());
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'UNKNOWN_SKU', sku: 'missing', reason: 'no such sku' });
  });

  it('a garbage ProtoBuf body is 400 MALFORMED_BODY and never reaches the service', async () => {
    const res = await post(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x07]));
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'MALFORMED_BODY');
  });
});

describe('json-to-grpc.yaml', { skip: GRPC_PEER }, () => {
  const dir = tempDir('weft-flow-grpc-');
  let server: PythonServer;
  let flow: RunningFlow;
  before(async () => {
    server = await grpcPeer(dir.path);
    flow = await start('json-to-grpc.yaml', { SHIPPING_GRPC: `127.0.0.1:${server.port}`, TENANT: 'acme' });
  });
  after(async () => {
    await flow?.stop();
    await server?.stop();
    dir.remove();
  });

  const post = (body: unknown) => fetch(`${flow.url}/shipping/quote`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  it('a JSON request becomes a gRPC call; the answer is JSON', async () => {
    const res = await post({ sku: 'A-1', weightGrams: '1200', express: true });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sku: 'A-1', priceCents: '3600', speed: 'FAST', tenant: 'acme' });
  });

  it('a ProtoBuf request works the same, and the answer is still JSON', async () => {
    const QuoteRequest = protobuf.loadSync(join(FLOWS, 'proto/shipping.proto')).lookupType('shipping.v1.QuoteRequest');
    const res = await fetch(`${flow.url}/shipping/quote`, {
      method: 'POST',
      body: QuoteRequest.encode(QuoteRequest.fromObject({ sku: 'P-1', weightGrams: '3002399751580331' })).finish() as RequestInit['body'],
      headers: { 'content-type': 'application/x-protobuf' },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { sku: 'P-1', priceCents: '9007199254740993', speed: 'SLOW', tenant: 'acme' });
  });

  it('a gRPC NOT_FOUND answers 404 with the status name', async () => {
    const res = await post({ sku: 'missing', weightGrams: 1 });
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'GRPC_STATUS', grpcStatus: 'NOT_FOUND', message: 'shipping /shipping.v1.Shipping/GetQuote failed with gRPC status NOT_FOUND: no such sku: missing' });
  });
});

describe('quote-aggregator.yaml', { skip: THRIFT_PEER || GRPC_PEER }, () => {
  const dir = tempDir('weft-flow-both-');
  let thrift: PythonServer;
  let grpc: PythonServer;
  let flow: RunningFlow;
  before(async () => {
    thrift = await thriftPeer(dir.path);
    grpc = await grpcPeer(dir.path);
    flow = await start('quote-aggregator.yaml', { PRICING_THRIFT_URL: `tcp://127.0.0.1:${thrift.port}`, SHIPPING_GRPC: `127.0.0.1:${grpc.port}` });
  });
  after(async () => {
    await flow?.stop();
    await thrift?.stop();
    await grpc?.stop();
    dir.remove();
  });

  it('JSON in, Thrift and gRPC in parallel, XML out with i64 exact', async () => {
    const res = await fetch(`${flow.url}/offers`, {
      method: 'POST',
      body: JSON.stringify({ sku: 'A-1', qty: 1, weightGrams: '1200', express: true }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/xml');
    assert.equal(
      await res.text(),
      '<?xml version="1.0" encoding="UTF-8"?><offer><sku>A-1</sku><itemCents>9007199254740993</itemCents><shippingCents>3600</shippingCents><speed>FAST</speed></offer>',
    );
  });

  it('a Thrift exception in one branch answers with its code, in XML', async () => {
    const res = await fetch(`${flow.url}/offers`, { method: 'POST', body: '{"sku":"missing","qty":1}', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 502);
    assert.match(await res.text(), /<code>THRIFT_EXCEPTION<\/code>/);
  });
});

describe('xml-to-thrift.yaml', { skip: THRIFT_PEER }, () => {
  const dir = tempDir('weft-flow-xml-thrift-');
  let server: PythonServer;
  let flow: RunningFlow;
  let QuoteAnswer: protobuf.Type;
  before(async () => {
    server = await thriftPeer(dir.path);
    flow = await start('xml-to-thrift.yaml', { PRICING_THRIFT_URL: `tcp://127.0.0.1:${server.port}` });
    QuoteAnswer = protobuf.loadSync(join(FLOWS, 'proto/pricing-api.proto')).lookupType('pricing.api.v1.QuoteAnswer');
  });
  after(async () => {
    await flow?.stop();
    await server?.stop();
    dir.remove();
  });

  it('an XML request becomes a Thrift call; the answer is ProtoBuf with int64 exact', async () => {
    const res = await fetch(`${flow.url}/quotes`, { method: 'POST', body: '<quote><sku>A-1</sku><qty>2</qty></quote>', headers: { 'content-type': 'application/xml' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const answer = QuoteAnswer.toObject(QuoteAnswer.decode(new Uint8Array(await res.arrayBuffer())), { longs: String });
    assert.deepEqual(answer, { sku: 'A-1', quantity: 2, totalCents: '18014398509481986', tags: ['py', 'framed'] });
  });
});
