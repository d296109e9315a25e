/**
 * The thrift endpoint against servers built with Apache Thrift's official Python library
 * (Debian's thrift-compiler generates the Python side at test time): framed+binary,
 * buffered+compact and HTTP, declared and application exceptions, oneway, a slow method that
 * hits the endpoint timeout, pooled concurrency, and load errors at their position.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertProblem, loadProblems, startTestFlow, type TestFlow } from '../support/flow.ts';
import { MemoryTransport, protocolFor } from '../../runtime/codecs/thrift-wire.ts';
import { generate, peerSkip, PEERS, PRICING_IDL, startPythonServer, tempDir, type PythonServer } from '../support/python-peer.ts';

const IDL = PRICING_IDL;

function flowYaml(thrift: string): string {
  return `weft: 1
name: thrift-interop
schemas:
  thrift: [idl/pricing.thrift]
trigger:
  http: { method: POST, path: "/:op" }
endpoints:
  pricing:
    thrift: ${thrift}
    timeout: 20s
  impatient:
    thrift: ${thrift}
    timeout: 300ms
steps:
  - choice:
      - when: params.op = "quote"
        steps:
          - call: pricing
            operation: quote
            args: '{ "sku": body.sku, "qty": body.qty }'
      - when: params.op = "echo"
        steps: [{ call: pricing, operation: echo, args: '{ "item": body }' }]
      - when: params.op = "ping"
        steps: [{ call: pricing, operation: ping, args: "{}" }]
      - when: params.op = "record"
        steps:
          - { call: pricing, operation: record, args: '{ "note": body.note }', as: sent }
          - transform: '{ "sent": true }'
      - when: params.op = "slow"
        steps: [{ call: impatient, operation: slow, args: '{ "ms": body.ms }' }]
      - when: params.op = "boom"
        steps: [{ call: pricing, operation: boom, args: "{}" }]
on_error:
  - respond:
      status: error.status
      body: '{ "code": error.code, "exception": error.exception, "application": error.application, "message": error.message }'
`;
}

const skip = peerSkip([['thrift', '--version']], ['thrift']);

describe('thrift endpoint against Apache Thrift (Python)', { skip }, () => {
  const dir = tempDir('weft-thrift-rpc-');
  before(() => {
    writeFileSync(join(dir.path, 'pricing.thrift'), IDL);
    generate('thrift', ['--gen', 'py', '-out', dir.path, 'pricing.thrift'], dir.path);
  });
  after(() => dir.remove());

  const post = (flow: TestFlow, op: string, body: unknown) =>
    flow.fetch(`/${op}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

  for (const [mode, protocol] of [['framed', 'binary'], ['buffered', 'compact'], ['http', 'binary'], ['http', 'compact']] as const) {
    describe(`${mode} transport, ${protocol} protocol`, () => {
      let server: PythonServer;
      let flow: TestFlow;
      before(async () => {
        server = await startPythonServer(join(PEERS, 'thrift_server.py'), [dir.path, mode, protocol]);
        const url = mode === 'http' ? `http://127.0.0.1:${server.port}/thrift` : `tcp://127.0.0.1:${server.port}`;
        const options = mode === 'http' ? `{ url: "${url}", service: pricing.Pricing, protocol: ${protocol} }` : `{ url: "${url}", service: pricing.Pricing, protocol: ${protocol}, transport: ${mode}, pool: 3 }`;
        flow = await startTestFlow(flowYaml(options), { files: { 'idl/pricing.thrift': IDL } });
      });
      after(async () => {
        await flow?.stop();
        await server?.stop();
      });

      it('calls a method by name; i64 beyond 2^53 comes back exact', async () => {
        const res = await post(flow, 'quote', { sku: 'A-1', qty: 2 });
        assert.equal(res.status, 200);
        assert.equal(await res.text(), `{"sku":"A-1","qty":2,"cents":18014398509481986,"tags":["py","${mode}"]}`);
      });

      it('a declared exception is THRIFT_EXCEPTION with its type and fields', async () => {
        const res = await post(flow, 'quote', { sku: 'missing', qty: 1 });
        assert.equal(res.status, 502);
        assert.deepEqual(await res.json(), {
          code: 'THRIFT_EXCEPTION',
          exception: { type: 'pricing.NotFound', name: 'notFound', fields: { sku: 'missing', reason: 'no such sku' } },
          message: 'pricing.quote threw pricing.NotFound',
        });
      });

      it('an unhandled server error is THRIFT_APPLICATION with its type', async () => {
        const res = await post(flow, 'boom', {});
        assert.equal(res.status, 502);
        const body = (await res.json()) as { code: string; application: { type: string; typeId: number } };
        assert.equal(body.code, 'THRIFT_APPLICATION');
        assert.equal(body.application.type, 'INTERNAL_ERROR');
        assert.equal(body.application.typeId, 6);
      });

      it('a void method answers null', async () => {
        const res = await post(flow, 'ping', {});
        assert.equal(res.status, 200);
        assert.equal(await res.text(), 'null');
      });

      it('a oneway method is sent without waiting for a reply, and arrives', async () => {
        const note = `note-${mode}-${protocol}`;
        const res = await post(flow, 'record', { note });
        assert.deepEqual(await res.json(), { sent: true });
        assert.equal(await server.waitFor(new RegExp(`recorded ${note}$`)), `recorded ${note}`);
        // The connection that carried the oneway call still serves the next call.
        assert.equal((await post(flow, 'quote', { sku: 'after-oneway', qty: 1 })).status, 200);
      });

      it('a large struct round-trips (a reply in many TCP chunks)', async () => {
        const tags = Array.from({ length: 5_000 }, (_, i) => `tag-${i}`);
        const res = await post(flow, 'echo', { sku: 'big', qty: 1, cents: '-9223372036854775808', tags });
        assert.equal(res.status, 200);
        const body = (await res.json()) as { tags: string[]; sku: string };
        assert.equal(body.sku, 'big');
        assert.deepEqual(body.tags, tags);
      });

      it('concurrent calls share the pool and all get their own answer', async () => {
        const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => post(flow, 'quote', { sku: `c-${i}`, qty: 1 }).then((r) => r.json())));
        assert.deepEqual(answers.map((a) => (a as { sku: string }).sku), Array.from({ length: 12 }, (_, i) => `c-${i}`));
      });

      if (mode !== 'http') {
        // Python's THttpServer serves one request at a time, so a sleeping call would block the rest.
        it('a slow method hits the endpoint timeout; the next call reconnects', async () => {
          const res = await post(flow, 'slow', { ms: 3000 });
          assert.deepEqual(await res.json(), { code: 'TIMEOUT', message: 'endpoint impatient did not answer within 300 ms' });
          assert.equal(res.status, 504);
          const next = await post(flow, 'slow', { ms: 1 });
          assert.equal(next.status, 200);
          assert.equal(await next.text(), '"slept 1"');
        });
      }
    });
  }
});

describe('thrift endpoint without a peer', () => {
  it('a refused connection is CONNECTION_REFUSED (502) and the endpoint reports unhealthy', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const flow = await startTestFlow(flowYaml(`{ url: "tcp://127.0.0.1:${port}", service: pricing.Pricing }`), { files: { 'idl/pricing.thrift': IDL } });
    try {
      const res = await flow.fetch('/quote', { method: 'POST', body: '{"sku":"x","qty":1}', headers: { 'content-type': 'application/json' } });
      assert.equal(res.status, 502);
      assert.equal(((await res.json()) as { code: string }).code, 'CONNECTION_REFUSED');
      const ready = await fetch(`${flow.adminUrl}/readyz`);
      assert.equal(ready.status, 503);
    } finally {
      await flow.stop();
    }
  });

  it('a misbehaving server gets clear errors, and the flow keeps serving', async () => {
    // A raw TCP peer: reads one framed call, then answers as told.
    let answer: (socket: Socket, seqid: number) => void = () => {};
    const server = createServer((socket) => {
      let buf = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 4 || buf.length < 4 + buf.readInt32BE(0)) return;
        const frame = buf.subarray(4, 4 + buf.readInt32BE(0));
        buf = Buffer.alloc(0);
        const p = protocolFor('binary', new MemoryTransport(frame));
        answer(socket, p.readMessageBegin().rseqid);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const flow = await startTestFlow(flowYaml(`{ url: "tcp://127.0.0.1:${port}", service: pricing.Pricing, maxBody: 1kb }`), { files: { 'idl/pricing.thrift': IDL } });
    const frame = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
    const reply = (seqid: number) => {
      const t = new MemoryTransport();
      const p = protocolFor('binary', t);
      p.writeMessageBegin('quote', 2, seqid);
      p.writeStructBegin('r');
      p.writeFieldStop();
      p.writeStructEnd();
      p.writeMessageEnd();
      return t.written();
    };
    const cases: [string, (s: Socket, seqid: number) => void, string][] = [
      ['garbage in a frame', (s) => s.write(frame(Buffer.from('hello'))), 'UPSTREAM_MALFORMED'],
      ['a frame that claims 2^31 bytes', (s) => s.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])), 'UPSTREAM_TOO_LARGE'],
      ['a reply to another call', (s, seqid) => s.write(frame(reply(seqid + 1))), 'UPSTREAM_MALFORMED'],
      ['no result for a non-void method', (s, seqid) => s.write(frame(reply(seqid))), 'THRIFT_APPLICATION'],
      ['half a frame, then close', (s) => s.end(Buffer.from([0, 0, 0, 9, 1, 2])), 'CONNECTION_RESET'],
    ];
    try {
      for (const [what, behaviour, code] of cases) {
        answer = behaviour;
        const res = await flow.fetch('/quote', { method: 'POST', body: '{"sku":"x","qty":1}', headers: { 'content-type': 'application/json' } });
        assert.equal(((await res.json()) as { code: string }).code, code, what);
        assert.equal(res.status, 502, what);
      }
    } finally {
      await flow.stop();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('an unknown operation, unknown or missing args, and REST options are load errors at their position', async () => {
    const yaml = `weft: 1
name: thrift-bad
schemas:
  thrift: [idl/pricing.thrift]
trigger:
  http: { method: POST, path: /x }
endpoints:
  pricing:
    thrift: { url: "tcp://127.0.0.1:1", service: pricing.Pricing }
  strict:
    thrift: { url: "http://127.0.0.1:1/t", service: pricing.Pricng, transport: framed }
steps:
  - call: pricing
    operation: quotes
  - call: pricing
    operation: quote
    args: '{ "sku": body.sku, "qtty": 1 }'
  - call: pricing
    operation: echo
    path: /nope
`;
    const found = await loadProblems(yaml, { 'idl/pricing.thrift': IDL });
    const expect = (line: number, re: RegExp) => assertProblem(found, line, re);
    expect(11, /unknown Thrift service 'pricing.Pricng'; did you mean 'pricing.Pricing'/);
    expect(11, /transport applies to tcp:\/\/ URLs/);
    expect(14, /FLOW_REFERENCE pricing.Pricing has no operation 'quotes'; did you mean 'quote'/);
    expect(17, /no parameter 'qtty'; did you mean 'qty'/);
    expect(20, /path is for http endpoints/);
  });
});
