/**
 * The `tls` option of the binary RPC endpoints: grpc against a real @grpc/grpc-js server with
 * SSL server credentials that requires a client certificate, and thrift over TCP against
 * Apache Thrift's Python TSSLServerSocket (framed, binary), thrift over HTTPS against a Node
 * https server answering Thrift. Each checks the client certificate's CN on the server side
 * and the TLS_FAILED reasons without it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { MemoryTransport, protocolFor } from '../../runtime/codecs/thrift-wire.ts';
import { startTestFlow } from '../support/flow.ts';
import { createTestPki, type TestPki } from '../support/certs.ts';
import { generate, peerSkip, PEERS, PRICING_IDL, startPythonServer, tempDir, type PythonServer } from '../support/python-peer.ts';

const PROTO = `syntax = "proto3";
package vault.v1;
message Ask { string sku = 1; }
message Answer { string sku = 1; string client = 2; }
service Vault { rpc Get(Ask) returns (Answer); }
`;

const raw = (b: Buffer) => b;

/** A grpc-js server over TLS that requires a client certificate and answers with its CN. */
async function startGrpcServer(pki: TestPki): Promise<{ server: grpc.Server; port: number }> {
  const root = protobuf.parse(PROTO).root;
  const Ask = root.lookupType('vault.v1.Ask');
  const Answer = root.lookupType('vault.v1.Answer');
  const server = new grpc.Server();
  const definition: grpc.ServiceDefinition = {
    Get: { path: '/vault.v1.Vault/Get', requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
  };
  server.addService(definition, {
    Get: (call: grpc.ServerUnaryCall<Buffer, Buffer>, done: grpc.sendUnaryData<Buffer>) => {
      const ask = Ask.toObject(Ask.decode(call.request)) as { sku: string };
      const client = call.getAuthContext().sslPeerCertificate?.subject?.CN ?? '';
      done(null, Buffer.from(Answer.encode(Answer.fromObject({ sku: ask.sku, client })).finish()));
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(Buffer.from(pki.pem.ca), [{ private_key: Buffer.from(pki.pem.serverKey), cert_chain: Buffer.from(pki.pem.serverCert) }], true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))));
  return { server, port };
}

/** The endpoints both suites declare, by the `tls` they take (files under certs/). */
const TLS_VARIANTS: Record<string, string> = {
  mutual: '{ ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key }',
  named: '{ ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key, servername: localhost }',
  anonymous: '{ ca: certs/ca.pem }',
  untrusted: '{ cert: certs/client.pem, key: certs/client.key }',
};

/**
 * Starts a flow answering GET /<variant> with one call through the endpoint of that variant.
 * `endpoint` writes the kind's line for a `tls` value; `call` the options of the call step.
 */
async function startRpcFlow(pki: TestPki, schemas: string, files: Record<string, string>, endpoint: (tls: string) => string, call: string, port: number) {
  const flow = await startTestFlow(
    `weft: 1
name: rpc-tls
schemas:
  ${schemas}
trigger:
  http: { method: GET, path: "/:endpoint" }
endpoints:
${Object.entries(TLS_VARIANTS).map(([name, tls]) => `  ${name}:\n    ${endpoint(tls)}\n    timeout: 5s`).join('\n')}
steps:
  - choice:
${Object.keys(TLS_VARIANTS).map((name) => `      - when: params.endpoint = "${name}"\n        steps: [{ call: ${name}, ${call} }]`).join('\n')}
on_error:
  - respond: { status: error.status, body: '{ "code": error.code, "message": error.message }' }
`,
    { files: { ...files, 'certs/ca.pem': pki.pem.ca, 'certs/client.pem': pki.pem.clientCert, 'certs/client.key': pki.pem.clientKey }, env: { PORT: String(port) } },
  );
  const get = async (variant: string) => {
    const res = await flow.fetch(`/${variant}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { flow, get };
}

/** Without the CA the server is not trusted; without a client certificate it refuses. */
async function assertRefusals(get: (variant: string) => Promise<{ status: number; body: Record<string, unknown> }>): Promise<void> {
  const untrusted = await get('untrusted');
  assert.equal(untrusted.status, 502);
  assert.equal(untrusted.body.code, 'TLS_FAILED');
  assert.match(String(untrusted.body.message), /not signed by a trusted CA/);
  const anonymous = await get('anonymous');
  assert.equal(anonymous.status, 502);
  assert.equal(anonymous.body.code, 'TLS_FAILED');
  assert.match(String(anonymous.body.message), /requires a client certificate|refused the client certificate/);
}

describe('grpc endpoint over TLS (grpc-js server, client certificate required)', () => {
  let pki: TestPki;
  let grpcServer: { server: grpc.Server; port: number };
  let running: Awaited<ReturnType<typeof startRpcFlow>>;

  before(async () => {
    pki = createTestPki();
    grpcServer = await startGrpcServer(pki);
    const endpoint = (tls: string) => `grpc: { url: "127.0.0.1:\${env.PORT}", service: vault.v1.Vault, tls: ${tls} }`;
    running = await startRpcFlow(pki, 'proto: [proto/vault.proto]', { 'proto/vault.proto': PROTO }, endpoint, `operation: Get, args: '{ "sku": "A-1" }'`, grpcServer.port);
  });
  after(async () => {
    await running?.flow.stop();
    grpcServer?.server.forceShutdown();
    pki?.remove();
  });

  it('calls with the private CA and a client certificate; the server sees its CN', async () => {
    assert.deepEqual(await running.get('mutual'), { status: 200, body: { sku: 'A-1', client: pki.clientCn } });
    assert.deepEqual(await running.get('named'), { status: 200, body: { sku: 'A-1', client: pki.clientCn } });
  });

  it('without the CA the server is not trusted; without a client certificate the server refuses: TLS_FAILED', () => assertRefusals(running.get));
});

const thriftSkip = peerSkip([['thrift', '--version']], ['thrift']);

describe('thrift endpoint over TLS (python3-thrift TSSLServerSocket, client certificate required)', { skip: thriftSkip }, () => {
  const dir = tempDir('weft-thrift-tls-');
  let pki: TestPki;
  let server: PythonServer;
  let running: Awaited<ReturnType<typeof startRpcFlow>>;

  before(async () => {
    pki = createTestPki();
    writeFileSync(join(dir.path, 'pricing.thrift'), PRICING_IDL);
    generate('thrift', ['--gen', 'py', '-out', dir.path, 'pricing.thrift'], dir.path);
    server = await startPythonServer(join(PEERS, 'thrift_server.py'), [dir.path, 'framed', 'binary', pki.files.serverCert, pki.files.serverKey, pki.files.ca]);
    const endpoint = (tls: string) => `thrift: { url: "tcp://127.0.0.1:\${env.PORT}", service: pricing.Pricing, tls: ${tls} }`;
    running = await startRpcFlow(pki, 'thrift: [idl/pricing.thrift]', { 'idl/pricing.thrift': PRICING_IDL }, endpoint, `operation: quote, args: '{ "sku": "A-1", "qty": 2 }'`, server.port);
  });
  after(async () => {
    await running?.flow.stop();
    await server?.stop();
    dir.remove();
    pki?.remove();
  });

  it('calls with the private CA and a client certificate (by IP and by servername); the server sees its CN', async () => {
    for (const variant of ['mutual', 'named']) {
      const { status, body } = await running.get(variant);
      assert.equal(status, 200, variant);
      assert.equal(body.sku, 'A-1');
      assert.deepEqual(body.tags, ['py', 'framed']);
    }
    assert.equal(await server.waitFor(/^client CN=/), `client CN=${pki.clientCn}`);
  });

  it('without the CA the server is not trusted; without a client certificate the server refuses: TLS_FAILED', () => assertRefusals(running.get));
});

describe('thrift endpoint over HTTPS (a Node https server answering Thrift, client certificate required)', () => {
  let pki: TestPki;
  let server: HttpsServer;
  const clients: string[] = [];
  let running: Awaited<ReturnType<typeof startRpcFlow>>;

  before(async () => {
    pki = createTestPki();
    // THttpServer's part: one unframed binary call per POST, the reply as the answer's body.
    server = createHttpsServer({ key: pki.pem.serverKey, cert: pki.pem.serverCert, ca: pki.pem.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        clients.push(String((req.socket as TLSSocket).getPeerCertificate().subject.CN));
        const call = protocolFor('binary', new MemoryTransport(Buffer.concat(chunks))).readMessageBegin();
        const out = new MemoryTransport();
        const p = protocolFor('binary', out);
        p.writeMessageBegin(call.fname, 2, call.rseqid); // REPLY of a void method: an empty result struct
        p.writeStructBegin('result');
        p.writeFieldStop();
        p.writeStructEnd();
        p.writeMessageEnd();
        res.writeHead(200, { 'content-type': 'application/x-thrift' });
        res.end(out.written());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = (tls: string) => `thrift: { url: "https://127.0.0.1:\${env.PORT}/thrift", service: pricing.Pricing, tls: ${tls} }`;
    running = await startRpcFlow(pki, 'thrift: [idl/pricing.thrift]', { 'idl/pricing.thrift': PRICING_IDL }, endpoint, 'operation: ping, args: "{}"', (server.address() as AddressInfo).port);
  });
  after(async () => {
    await running?.flow.stop();
    await new Promise((r) => server?.close(r));
    pki?.remove();
  });

  it('calls with the private CA and a client certificate (by IP and by servername); the server sees its CN', async () => {
    assert.deepEqual(await running.get('mutual'), { status: 200, body: null });
    assert.deepEqual(await running.get('named'), { status: 200, body: null });
    assert.deepEqual(clients, [pki.clientCn, pki.clientCn]);
  });

  it('without the CA the server is not trusted; without a client certificate the server refuses: TLS_FAILED', () => assertRefusals(running.get));
});
