/**
 * `auth:` on http endpoints: OAuth2 client credentials against a real authorization server
 * (oidc-provider) and a resource server that introspects every token; API keys, basic and
 * bearer against a recording server; and secrets that never reach logs or error bodies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLIENT, startAuthServer, startResourceServer, type AuthServer } from '../support/oauth-server.ts';
import { capturingLogger } from '../support/log.ts';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, jsonOf, startUpstream, type Upstream } from '../support/upstream.ts';

const saasFlow = (auth: string) => `weft: 1
name: saas-call
trigger:
  http: { method: GET, path: /orders }
endpoints:
  saas:
    http:
      url: "\${env.API}"
      auth:
${auth}
steps:
  - call: saas
    path: /v1/orders
on_error:
  - respond: { status: error.status, body: '{ "code": error.code, "message": error.message }' }
`;

const oauth = (tokenUrl: string, secret = '"${env.CLIENT_SECRET}"') => `        oauth2:
          tokenUrl: "${tokenUrl}"
          clientId: ${CLIENT.id}
          clientSecret: ${secret}
          scope: orders:read`;

describe('OAuth2 client credentials against oidc-provider', () => {
  let auth: AuthServer;
  let api: Upstream;
  let flow: TestFlow;
  const logs = capturingLogger();

  before(async () => {
    auth = await startAuthServer();
    api = await startResourceServer(auth);
    flow = await startTestFlow(saasFlow(oauth(auth.tokenUrl)), {
      env: { API: api.url, CLIENT_SECRET: CLIENT.secret },
      log: logs.log,
    });
  });
  after(async () => {
    await flow.stop();
    await api.close();
    await auth.close();
  });

  it('fetches one token for many concurrent calls (single flight) and reuses it', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => flow.fetch('/orders')));
    for (const res of answers) {
      assert.equal(res.status, 200);
      assert.deepEqual(await jsonOf(res), { client: CLIENT.id, path: '/v1/orders' });
    }
    assert.equal((await flow.fetch('/orders')).status, 200);
    assert.equal(auth.tokenRequests, 1);
    const tokens = new Set(api.requests.map((r) => r.headers.authorization));
    assert.equal(tokens.size, 1);
  });

  it('a 401 (token revoked) is retried once with a fresh token', async () => {
    const used = api.requests.at(-1)!.headers.authorization!.slice('Bearer '.length);
    await auth.revoke(used);
    const before = api.requests.length;
    const res = await flow.fetch('/orders');
    assert.equal(res.status, 200);
    assert.equal(auth.tokenRequests, 2);
    assert.equal(api.requests.length - before, 2, 'one refused call, one with the fresh token');
    assert.notEqual(api.requests.at(-1)!.headers.authorization, `Bearer ${used}`);
  });

  it('never writes the client secret or a token into the logs', () => {
    const text = logs.text();
    assert.ok(text.length > 0, 'the flow logged something');
    assert.ok(!text.includes(CLIENT.secret));
    for (const r of api.requests) assert.ok(!text.includes(r.headers.authorization!.slice(7)));
  });
});

describe('OAuth2 token renewal before expiry', () => {
  it('renews a token once it is within refreshBefore of expiry', async () => {
    const auth = await startAuthServer({ tokenTtlSeconds: 2 });
    const api = await startResourceServer(auth);
    const flow = await startTestFlow(saasFlow(`${oauth(auth.tokenUrl)}\n          refreshBefore: 1900ms`), {
      env: { API: api.url, CLIENT_SECRET: CLIENT.secret },
    });
    try {
      // refreshBefore is capped at half the lifetime: the 2 s token is used for 1 s.
      assert.equal((await flow.fetch('/orders')).status, 200);
      assert.equal(auth.tokenRequests, 1);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await flow.fetch('/orders')).status, 200);
      assert.equal(auth.tokenRequests, 2);
    } finally {
      await flow.stop();
      await api.close();
      await auth.close();
    }
  });
});

describe('OAuth2 failures: clear UPSTREAM_AUTH, no tight retry loop', () => {
  it('a wrong client secret -> 502 UPSTREAM_AUTH naming invalid_client, without the secret', async () => {
    const auth = await startAuthServer();
    const api = await startResourceServer(auth);
    const flow = await startTestFlow(saasFlow(oauth(auth.tokenUrl, '"wrong-secret-123"')), { env: { API: api.url } });
    try {
      const res = await flow.fetch('/orders');
      assert.equal(res.status, 502);
      const body = await jsonOf(res);
      assert.equal(body.code, 'UPSTREAM_AUTH');
      assert.match(body.message, /invalid_client/);
      assert.ok(!JSON.stringify(body).includes('wrong-secret-123'));
      assert.equal((await flow.fetch('/orders')).status, 502);
      assert.equal(auth.tokenRequests, 1, 'the second call fails fast within failureBackoff');
      assert.equal(api.requests.length, 0);
    } finally {
      await flow.stop();
      await api.close();
      await auth.close();
    }
  });

  it('a token endpoint that answers garbage or is down -> UPSTREAM_AUTH', async () => {
    const garbage = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>Login</html>');
    });
    const noToken = await startUpstream((_req, res) => json(res, 200, { hello: 'world' }));
    const api = await startUpstream((_req, res) => json(res, 200, {}));
    try {
      for (const [tokenUrl, message] of [
        [`${garbage.url}/token`, /without an access_token/],
        [`${noToken.url}/token`, /without an access_token/],
        ['http://127.0.0.1:1/token', /cannot be reached/],
      ] as const) {
        const flow = await startTestFlow(saasFlow(oauth(tokenUrl, 's3cr3t-value')), { env: { API: api.url } });
        try {
          const body = await jsonOf(await flow.fetch('/orders'));
          assert.equal(body.code, 'UPSTREAM_AUTH');
          assert.match(body.message, message);
          assert.ok(!JSON.stringify(body).includes('s3cr3t-value'));
          await flow.fetch('/orders');
        } finally {
          await flow.stop();
        }
      }
      assert.equal(garbage.requests.length, 1, 'two messages, one token request: the failure is remembered');
      assert.equal(noToken.requests.length, 1);
      assert.equal(api.requests.length, 0);
    } finally {
      await garbage.close();
      await noToken.close();
      await api.close();
    }
  });
});

describe('API key, basic and bearer', () => {
  let api: Upstream;
  const dir = mkdtempSync(join(tmpdir(), 'weft-secret-'));
  const keyFile = join(dir, 'api-key');
  writeFileSync(keyFile, 'key-from-file\n');

  before(async () => {
    api = await startUpstream((req, res) => json(res, req.url.includes('fail') ? 500 : 200, { url: req.url, auth: req.headers.authorization ?? null, key: req.headers['x-api-key'] ?? null }));
  });
  after(() => api.close());

  const run = async (authYaml: string, path = '/orders', env: Record<string, string> = {}) => {
    const flow = await startTestFlow(saasFlow(authYaml).replace('/v1/orders', `/v1${path === '/orders' ? '' : '/fail'}`), { env: { API: api.url, ...env } });
    try {
      return await jsonOf(await flow.fetch('/orders', { headers: { 'x-user-token': 'caller-token' } }));
    } finally {
      await flow.stop();
    }
  };

  it('apiKey in a header, from a mounted secret file', async () => {
    const seen = await run(`        apiKey: { header: X-API-Key, value: { file: "${keyFile}" } }`);
    assert.equal(seen.key, 'key-from-file');
  });

  it('apiKey in the query, kept out of error messages', async () => {
    assert.equal((await run('        apiKey: { query: api_key, value: "${env.KEY}" }', '/orders', { KEY: 'q-key 1' })).url, '/v1?api_key=q-key%201');
    const failed = await run('        apiKey: { query: api_key, value: "${env.KEY}" }', '/fail', { KEY: 'q-key-1' });
    assert.equal(failed.code, 'UPSTREAM_STATUS');
    assert.ok(!failed.message.includes('q-key-1'), failed.message);
  });

  it('basic with the password from the environment', async () => {
    const seen = await run('        basic: { username: svc, password: "${env.PASS}" }', '/orders', { PASS: 'p@ss:word' });
    assert.equal(seen.auth, `Basic ${Buffer.from('svc:p@ss:word').toString('base64')}`);
  });

  it('bearer from an expression over the message', async () => {
    const seen = await run(`        bearer: { token: 'headers."x-user-token"' }`);
    assert.equal(seen.auth, 'Bearer caller-token');
  });

  it('a missing secret file is a load error with its position', async () => {
    await assert.rejects(
      startTestFlow(saasFlow('        apiKey: { header: X-API-Key, value: { file: no-such-file } }'), { env: { API: api.url } }),
      /flow\.yaml:\d+:\d+ FLOW_FILE cannot read file 'no-such-file'/,
    );
  });
});
