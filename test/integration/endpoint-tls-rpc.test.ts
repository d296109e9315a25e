/**
 * The `tls` option of the binary RPC endpoints: grpc against a real @grpc/grpc-js server with
 * SSL server credentials that requires a client certificate, and thrift over TCP against
 * Apache Thrift's Python TSSLServerSocket (framed, binary). Both check the client
 * certificate's CN on the server side and the TLS_FAILED reasons without it.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { createTestPki, type TestPki } from '../support/certs.ts';
import { generate, peerSkip, PEERS, startPythonServer, tempDir, type PythonServer } from '../support/python-peer.ts';

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

const CERT_FILES = (pki: TestPki) => ({ 'certs/ca.pem': pki.pem.ca, 'certs/client.pem': pki.pem.clientCert, 'certs/client.key': pki.pem.clientKey });

const respondError = `on_error:
  - respond: { status: error.status, body: '{ "code": error.code, "message": error.message }' }
`;

describe('grpc endpoint over TLS (grpc-js server, client certificate required)', () => {
  let pki: TestPki;
  let grpcServer: { server: grpc.Server; port: number };
  let flow: TestFlow;

  before(async () => {
    pki = createTestPki();
    grpcServer = await startGrpcServer(pki);
    const endpoint = (tls: string) => `grpc: { url: "127.0.0.1:\${env.PORT}", service: vault.v1.Vault, tls: ${tls} }\n    timeout: 5s`;
    flow = await startTestFlow(
      `weft: 1
name: grpc-tls
schemas:
  proto: [proto/vault.proto]
trigger:
  http: { method: GET, path: "/:endpoint" }
endpoints:
  mutual:
    ${endpoint('{ ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key }')}
  named:
    ${endpoint('{ ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key, servername: localhost }')}
  anonymous:
    ${endpoint('{ ca: certs/ca.pem }')}
  untrusted:
    ${endpoint('{ cert: certs/client.pem, key: certs/client.key }')}
steps:
  - choice:
${['mutual', 'named', 'anonymous', 'untrusted'].map((e) => `      - when: params.endpoint = "${e}"\n        steps: [{ call: ${e}, operation: Get, args: '{ "sku": "A-1" }' }]`).join('\n')}
${respondError}`,
      { files: { 'proto/vault.proto': PROTO, ...CERT_FILES(pki) }, env: { PORT: String(grpcServer.port) } },
    );
  });
  after(async () => {
    await flow?.stop();
    grpcServer?.server.forceShutdown();
    pki?.remove();
  });

  const call = async (endpoint: string) => {
    const res = await flow.fetch(`/${endpoint}`);
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };

  it('calls with the private CA and a client certificate; the server sees its CN', async () => {
    assert.deepEqual(await call('mutual'), { status: 200, body: { sku: 'A-1', client: pki.clientCn } });
    assert.deepEqual(await call('named'), { status: 200, body: { sku: 'A-1', client: pki.clientCn } });
  });

  it('without the CA the server is not trusted; without a client certificate the server refuses: TLS_FAILED', async () => {
    const untrusted = await call('untrusted');
    assert.equal(untrusted.status, 502);
    assert.equal(untrusted.body.code, 'TLS_FAILED');
    assert.match(untrusted.body.message, /not signed by a trusted CA/);
    const anonymous = await call('anonymous');
    assert.equal(anonymous.status, 502);
    assert.equal(anonymous.body.code, 'TLS_FAILED');
    assert.match(anonymous.body.message, /requires a client certificate|refused the client certificate/);
  });
});

const IDL = `namespace py pricing
exception NotFound { 1: string sku, 2: string reason }
struct Quote { 1: required string sku, 2: i32 qty, 3: i64 cents, 4: list<string> tags }
service Pricing {
  Quote quote(1: string sku, 2: i32 qty) throws (1: NotFound notFound),
  Quote echo(1: Quote item),
  void ping(),
  oneway void record(1: string note),
  string slow(1: i32 ms),
  string boom(),
}
`;

const thriftSkip = peerSkip([['thrift', '--version']], ['thrift']);

describe('thrift endpoint over TLS (python3-thrift TSSLServerSocket, client certificate required)', { skip: thriftSkip }, () => {
  const dir = tempDir('weft-thrift-tls-');
  let pki: TestPki;
  let server: PythonServer;
  let flow: TestFlow;

  before(async () => {
    pki = createTestPki();
    writeFileSync(join(dir.path, 'pricing.thrift'), IDL);
    generate('thrift', ['--gen', 'py', '-out', dir.path, 'pricing.thrift'], dir.path);
    server = await startPythonServer(join(PEERS, 'thrift_server.py'), [dir.path, 'framed', 'binary', pki.files.serverCert, pki.files.serverKey, pki.files.ca]);
    const endpoint = (tls: string) => `thrift: { url: "tcp://127.0.0.1:\${env.PORT}", service: pricing.Pricing, tls: ${tls} }\n    timeout: 5s`;
    flow = await startTestFlow(
      `weft: 1
name: thrift-tls
schemas:
  thrift: [idl/pricing.thrift]
trigger:
  http: { method: GET, path: "/:endpoint" }
endpoints:
  mutual:
    ${endpoint('{ ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key }')}
  anonymous:
    ${endpoint('{ ca: certs/ca.pem }')}
  untrusted:
    ${endpoint('{ cert: certs/client.pem, key: certs/client.key }')}
steps:
  - choice:
${['mutual', 'anonymous', 'untrusted'].map((e) => `      - when: params.endpoint = "${e}"\n        steps: [{ call: ${e}, operation: quote, args: '{ "sku": "A-1", "qty": 2 }' }]`).join('\n')}
${respondError}`,
      { files: { 'idl/pricing.thrift': IDL, ...CERT_FILES(pki) }, env: { PORT: String(server.port) } },
    );
  });
  after(async () => {
    await flow?.stop();
    await server?.stop();
    dir.remove();
    pki?.remove();
  });

  const call = async (endpoint: string) => {
    const res = await flow.fetch(`/${endpoint}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('calls with the private CA and a client certificate; the server sees its CN', async () => {
    const { status, body } = await call('mutual');
    assert.equal(status, 200);
    assert.equal(body.sku, 'A-1');
    assert.deepEqual(body.tags, ['py', 'framed']);
    assert.equal(await server.waitFor(/^client CN=/), `client CN=${pki.clientCn}`);
  });

  it('without the CA the server is not trusted; without a client certificate the server refuses: TLS_FAILED', async () => {
    const untrusted = await call('untrusted');
    assert.equal(untrusted.status, 502);
    assert.equal(untrusted.body.code, 'TLS_FAILED');
    assert.match(String(untrusted.body.message), /not signed by a trusted CA/);
    const anonymous = await call('anonymous');
    assert.equal(anonymous.status, 502);
    assert.equal(anonymous.body.code, 'TLS_FAILED');
    assert.match(String(anonymous.body.message), /requires a client certificate|refused the client certificate/);
  });
});
