/**
 * The endpoints' `tls` option against real HTTPS servers on 127.0.0.1 with a CA, server and
 * client certificates made by openssl for the test: a private CA, `servername`, mutual TLS
 * (with a plain and a passphrase-protected key), `insecure`, the TLS_FAILED reasons, and the
 * load errors of bad files.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { assertProblem, loadProblems, startTestFlow, type TestFlow } from '../support/flow.ts';
import { createTestPki, type TestPki } from '../support/certs.ts';
import { capturingLogger } from '../support/log.ts';

/** An HTTPS server answering with the path and the CN of the client certificate it saw. */
async function startHttps(pki: TestPki, requireClientCert: boolean): Promise<{ server: Server; url: string }> {
  const server = createServer(
    { key: pki.pem.serverKey, cert: pki.pem.serverCert, ca: pki.pem.ca, requestCert: requireClientCert, rejectUnauthorized: requireClientCert },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url, cn: peer?.subject?.CN ?? null, protocol: (req.socket as TLSSocket).getProtocol() }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const ENDPOINTS: Record<string, string> = {
  trusted: '{ url: "${env.PLAIN}", tls: { ca: certs/ca.pem } }',
  trustedList: '{ url: "${env.PLAIN}", tls: { ca: [certs/ca.pem], minVersion: TLSv1.3 } }',
  untrusted: '{ url: "${env.PLAIN}" }',
  named: '{ url: "${env.PLAIN}", tls: { ca: certs/ca.pem, servername: localhost } }',
  misnamed: '{ url: "${env.PLAIN}", tls: { ca: certs/ca.pem, servername: billing.example } }',
  anonymous: '{ url: "${env.MUTUAL}", tls: { ca: certs/ca.pem } }',
  mutual: '{ url: "${env.MUTUAL}", tls: { ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key } }',
  locked: '{ url: "${env.MUTUAL}", tls: { ca: certs/ca.pem, cert: certs/client.pem, key: certs/client-encrypted.key, passphrase: "${env.KEY_PASS}" } }',
  careless: '{ url: "${env.PLAIN}", tls: { insecure: true } }',
};

const FLOW = `weft: 1
name: endpoint-tls
trigger:
  http: { method: GET, path: "/:endpoint" }
endpoints:
${Object.entries(ENDPOINTS)
  .map(([name, http]) => `  ${name}:\n    http: ${http}\n    timeout: 5s`)
  .join('\n')}
steps:
  - choice:
${Object.keys(ENDPOINTS)
  .map((name) => `      - when: params.endpoint = "${name}"\n        steps: [{ call: ${name}, path: /hello }]`)
  .join('\n')}
on_error:
  - respond: { status: error.status, body: '{ "code": error.code, "message": error.message }' }
`;

describe('endpoint tls', () => {
  let pki: TestPki;
  let plain: { server: Server; url: string };
  let mutual: { server: Server; url: string };
  let flow: TestFlow;
  const logged = capturingLogger();

  before(async () => {
    pki = createTestPki();
    plain = await startHttps(pki, false);
    mutual = await startHttps(pki, true);
    flow = await startTestFlow(FLOW, {
      files: {
        'certs/ca.pem': pki.pem.ca,
        'certs/client.pem': pki.pem.clientCert,
        'certs/client.key': pki.pem.clientKey,
        'certs/client-encrypted.key': readFileSync(pki.files.clientKeyEncrypted, 'utf8'),
      },
      env: { PLAIN: plain.url, MUTUAL: mutual.url, KEY_PASS: pki.passphrase },
      log: logged.log,
    });
  });
  after(async () => {
    await flow?.stop();
    await new Promise((r) => plain?.server.close(r));
    await new Promise((r) => mutual?.server.close(r));
    pki?.remove();
  });

  const call = async (endpoint: string) => {
    const res = await flow.fetch(`/${endpoint}`);
    return { status: res.status, body: (await res.json()) as Record<string, string | null> };
  };

  it('trusts a private CA given in `ca` (one file or a list) and checks the name in the URL', async () => {
    assert.deepEqual(await call('trusted'), { status: 200, body: { path: '/hello', cn: null, protocol: 'TLSv1.3' } });
    const listed = await call('trustedList');
    assert.equal(listed.status, 200);
    assert.equal(listed.body.protocol, 'TLSv1.3');
  });

  it('without `ca` the private CA is not trusted: TLS_FAILED naming the reason', async () => {
    const { status, body } = await call('untrusted');
    assert.equal(status, 502);
    assert.equal(body.code, 'TLS_FAILED');
    assert.match(body.message!, /not signed by a trusted CA \(give the CA in `tls.ca`\)/);
  });

  it('verifies `servername` instead of the URL host: a name the certificate has works, another fails', async () => {
    assert.equal((await call('named')).status, 200);
    const { status, body } = await call('misnamed');
    assert.equal(status, 502);
    assert.equal(body.code, 'TLS_FAILED');
    assert.match(body.message!, /hostname mismatch/);
  });

  it('mutual TLS: without a client certificate the server refuses, with one it sees its CN', async () => {
    const refused = await call('anonymous');
    assert.equal(refused.status, 502);
    assert.equal(refused.body.code, 'TLS_FAILED');
    assert.match(refused.body.message!, /requires a client certificate/);
    assert.deepEqual(await call('mutual'), { status: 200, body: { path: '/hello', cn: pki.clientCn, protocol: 'TLSv1.3' } });
  });

  it('an encrypted key is unlocked with `passphrase`, which is never logged', async () => {
    const { status, body } = await call('locked');
    assert.equal(status, 200);
    assert.equal(body.cn, pki.clientCn);
    assert.ok(!logged.text().includes(pki.passphrase), 'the passphrase is not in the log');
  });

  it('`insecure: true` skips verification, with a warning at start', async () => {
    assert.equal((await call('careless')).status, 200);
    const warnings = logged.text().split('\n').filter((l) => l.includes('tls.insecure'));
    assert.equal(warnings.length, 1, logged.text());
    assert.match(warnings[0], /"level":40.*"endpoint":"careless"/);
  });
});

describe('endpoint tls load errors', () => {
  let pki: TestPki;
  before(() => {
    pki = createTestPki();
  });
  after(() => pki?.remove());

  const flowWith = (http: string) => `weft: 1
name: tls-errors
trigger:
  http: { method: GET, path: /x }
endpoints:
  api:
    http: ${http}
steps:
  - call: api
`;

  it('a file that is not PEM names the file and the option', async () => {
    const problems = await loadProblems(flowWith('{ url: "https://api.example", tls: { ca: [certs/ca.pem, certs/notes.txt] } }'), {
      'certs/ca.pem': pki.pem.ca,
      'certs/notes.txt': 'not a certificate\n',
    });
    assert.equal(problems.length, 1, problems.join('\n'));
    assertProblem(problems, 7, /FLOW_FILE 'certs\/notes.txt' \(endpoints.api.http.tls.ca\[1\]\) is not a PEM CA certificate: no -----BEGIN CERTIFICATE----- block/);
  });

  it('a missing file, a key of another certificate, and a key that is not a key', async () => {
    const files = { 'c.pem': pki.pem.clientCert, 's.key': pki.pem.serverKey, 'ca.pem': pki.pem.ca };
    assertProblem(await loadProblems(flowWith('{ url: "https://api.example", tls: { ca: nowhere/ca.pem } }'), files), 7, /FLOW_FILE cannot read file 'nowhere\/ca.pem'/);
    assertProblem(
      await loadProblems(flowWith('{ url: "https://api.example", tls: { cert: c.pem, key: s.key } }'), files),
      7,
      /FLOW_FILE the key in 's.key' does not belong to the certificate in 'c.pem'/,
    );
    assertProblem(
      await loadProblems(flowWith('{ url: "https://api.example", tls: { cert: c.pem, key: ca.pem } }'), files),
      7,
      /FLOW_FILE 'ca.pem' \(endpoints.api.http.tls.key\) is not a PEM private key/,
    );
  });

  it('an encrypted key needs its passphrase, and the right one', async () => {
    const files = { 'c.pem': pki.pem.clientCert, 'k.key': readFileSync(pki.files.clientKeyEncrypted, 'utf8') };
    assertProblem(await loadProblems(flowWith('{ url: "https://api.example", tls: { cert: c.pem, key: k.key } }'), files), 7, /is encrypted: give `passphrase`/);
    assertProblem(
      await loadProblems(flowWith('{ url: "https://api.example", tls: { cert: c.pem, key: k.key, passphrase: wrong } }'), files),
      7,
      /cannot be decrypted with `passphrase`/,
    );
  });

  it('half a client certificate, tls on plain http, and an unknown option', async () => {
    const files = { 'c.pem': pki.pem.clientCert };
    assertProblem(await loadProblems(flowWith('{ url: "https://api.example", tls: { cert: c.pem } }'), files), 7, /needs both `cert` and `key`/);
    assertProblem(await loadProblems(flowWith('{ url: "http://api.example", tls: { insecure: true } }'), files), 7, /`tls` applies to https:\/\/ URLs/);
    assertProblem(await loadProblems(flowWith('{ url: "https://api.example", tls: { verify: false } }'), files), 7, /verify/);
  });
});
