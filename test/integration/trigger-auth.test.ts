/**
 * The http trigger's `auth` against real parts on loopback: a JWKS server serving keys jose
 * generated (with rotation), tokens signed with RS256 and ES256, a real OAuth2 authorization
 * server (oidc-provider) answering RFC 7662 introspection, a backend that verifies the
 * forwarded, translated JWT with jose, and API keys. Every refusal is checked for its status,
 * code, WWW-Authenticate challenge and that no step ran; logs are checked for the token.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exportJWK, generateKeyPair, importSPKI, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { CLIENT, startAuthServer, type AuthServer } from '../support/oauth-server.ts';
import { capturingLogger } from '../support/log.ts';
import { assertProblem, loadProblems, startTestFlow, writeFlow, type TestFlow } from '../support/flow.ts';
import { spawnFlow } from '../support/process.ts';
import { json, jsonOf, startUpstream, type Upstream } from '../support/upstream.ts';

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'orders-api';

interface KeyServer {
  url: string;
  keys: JWK[];
  readonly fetches: number;
  close(): Promise<void>;
}

/** A JWKS endpoint whose key list the test can change (rotation), counting fetches. */
async function startKeyServer(keys: JWK[]): Promise<KeyServer> {
  let fetches = 0;
  const state = { keys };
  const server: Server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`,
    get keys() {
      return state.keys;
    },
    set keys(k: JWK[]) {
      state.keys = k;
    },
    get fetches() {
      return fetches;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function token(key: SigningKey, claims: Record<string, unknown> = {}, opts: { exp?: string | number; iss?: string; aud?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT({ sub: 'ada', scope: 'orders:read profile', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: opts.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(opts.iss ?? ISSUER)
    .setAudience(opts.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(opts.exp ?? '5m')
    .sign(key.privateKey);
}

/** A JWT with `alg: none`: header and payload, no signature. */
function unsigned(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}

/** Runs `check` against a flow started beside a recording backend (its URL in env API), then stops both. */
async function withBackend(yaml: string, env: Record<string, string>, check: (flow: TestFlow, api: Upstream) => Promise<void>): Promise<void> {
  const api = await startUpstream((_req, res) => json(res, 200, {}));
  const flow = await startTestFlow(yaml, { env: { ...env, API: api.url } });
  try {
    await check(flow, api);
  } finally {
    await flow.stop();
    await api.close();
  }
}

const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } });

/** Asserts a refusal: status, code, the challenge's error, and that the backend saw nothing. */
async function assertRefused(res: Response, status: number, code: string, challenge: RegExp | undefined): Promise<Record<string, unknown>> {
  const body = (await jsonOf(res)) as Record<string, unknown>;
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  assert.equal(body.code, code);
  if (challenge) assert.match(res.headers.get('www-authenticate') ?? '', challenge);
  return body;
}

const jwtFlow = (extra = '') => `weft: 1
name: secured
trigger:
  http:
    method: GET
    path: /orders/:id
    auth:
      jwt:
        jwks: "\${env.JWKS}"
        issuer: ${ISSUER}
        audience: ${AUDIENCE}
        scopes: [orders:read]
        jwksCooldown: 1s
        clockTolerance: 0s
${extra}
endpoints:
  backend:
    http:
      url: "\${env.API}"
      auth: { forward: true }
steps:
  - call: backend
    path: /orders/\${params.id}
    as: order
  - transform: '{ "sub": auth.claims.sub, "scopes": auth.scopes, "scheme": auth.scheme, "order": vars.order }'
`;

describe('trigger auth: jwt with a JWKS URL', () => {
  let keys: KeyServer;
  let api: Upstream;
  let flow: TestFlow;
  let rsa: SigningKey;
  let ec: SigningKey;
  const logs = capturingLogger();

  before(async () => {
    rsa = await signingKey('rsa-1', 'RS256');
    ec = await signingKey('ec-1', 'ES256');
    keys = await startKeyServer([rsa.jwk, ec.jwk]);
    api = await startUpstream((req, res) => json(res, 200, { id: req.url.split('/').pop(), auth: req.headers.authorization }));
    flow = await startTestFlow(jwtFlow(), { env: { JWKS: keys.url, API: api.url }, log: logs.log });
  });
  after(async () => {
    await flow.stop();
    await api.close();
    await keys.close();
  });

  it('accepts RS256 and ES256 tokens, exposes the claims as auth, and forwards the token', async () => {
    for (const key of [rsa, ec]) {
      const t = await token(key);
      const res = await flow.fetch('/orders/7', bearer(t));
      const body = await jsonOf(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(body, { sub: 'ada', scopes: ['orders:read', 'profile'], scheme: 'jwt', order: { id: '7', auth: `Bearer ${t}` } });
    }
    assert.equal(keys.fetches, 1, 'the key set is fetched once and cached');
  });

  it('understands scp as a list', async () => {
    const t = await token(rsa, { scope: undefined, scp: ['orders:read'] });
    assert.equal((await flow.fetch('/orders/1', bearer(t))).status, 200);
  });

  it('refuses a missing token with a bare Bearer challenge (RFC 6750 3.1)', async () => {
    const before = api.requests.length;
    const res = await flow.fetch('/orders/1');
    await assertRefused(res, 401, 'UNAUTHENTICATED', /^Bearer realm="secured"$/);
    const basic = await flow.fetch('/orders/1', { headers: { authorization: 'Basic YTpi' } });
    await assertRefused(basic, 401, 'UNAUTHENTICATED', /^Bearer realm="secured"$/);
    assert.equal(api.requests.length, before, 'no step ran');
  });

  it('refuses expired, foreign-issuer, foreign-audience, garbage and tampered tokens as invalid_token', async () => {
    const before = api.requests.length;
    const cases: [string, string, RegExp][] = [
      ['expired', await token(rsa, {}, { exp: Math.floor(Date.now() / 1000) - 60 }), /expired/],
      ['issuer', await token(rsa, {}, { iss: 'https://evil.test/' }), /"iss"/],
      ['audience', await token(rsa, {}, { aud: 'billing-api' }), /"aud"/],
      ['garbage', 'not.a.jwt', /well-formed/],
      ['tampered', (await token(rsa)).replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'root' })).toString('base64url')}.`), /signature/],
    ];
    for (const [what, t, detail] of cases) {
      const body = await assertRefused(await flow.fetch('/orders/1', bearer(t)), 401, 'UNAUTHENTICATED', /error="invalid_token"/);
      assert.match(String(body.detail), detail, what);
    }
    assert.equal(api.requests.length, before, 'no step ran');
  });

  it('refuses alg none, and an HS256 token signed with the public key (key confusion)', async () => {
    const none = unsigned({ sub: 'ada', iss: ISSUER, aud: AUDIENCE, scope: 'orders:read', exp: Math.floor(Date.now() / 1000) + 60 });
    await assertRefused(await flow.fetch('/orders/1', bearer(none)), 401, 'UNAUTHENTICATED', /error="invalid_token"/);
    const confused = await new SignJWT({ sub: 'ada', scope: 'orders:read' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa.jwk)));
    const body = await assertRefused(await flow.fetch('/orders/1', bearer(confused)), 401, 'UNAUTHENTICATED', /error="invalid_token"/);
    assert.match(String(body.detail), /algorithm/);
  });

  it('answers 403 insufficient_scope, naming the required scopes', async () => {
    const t = await token(rsa, { scope: 'profile' });
    const body = await assertRefused(await flow.fetch('/orders/1', bearer(t)), 403, 'FORBIDDEN', /error="insufficient_scope".*scope="orders:read"/);
    assert.match(String(body.detail), /orders:read/);
  });

  it('fetches the key set again for a new kid (rotation), but a flood of unknown kids does not hammer it', async () => {
    const rotated = await signingKey('rsa-2', 'RS256');
    keys.keys = [rotated.jwk, ec.jwk];
    await new Promise((r) => setTimeout(r, 1100)); // past jwksCooldown since the first fetch
    const fetched = keys.fetches;
    assert.equal((await flow.fetch('/orders/2', bearer(await token(rotated)))).status, 200);
    assert.equal(keys.fetches, fetched + 1);
    const bogus = await Promise.all(Array.from({ length: 20 }, (_, i) => token(rotated, {}, { kid: `made-up-${i}` })));
    const answers = await Promise.all(bogus.map((t) => flow.fetch('/orders/3', bearer(t))));
    for (const res of answers) await assertRefused(res, 401, 'UNAUTHENTICATED', /error="invalid_token"/);
    assert.equal(keys.fetches, fetched + 1, 'within the cool-down no further fetch');
  });

  it('declares the bearer scheme, scopes and the 401/403/503 answers in the OpenAPI document', async () => {
    const doc = await jsonOf(await fetch(`${flow.adminUrl}/openapi.json`));
    assert.deepEqual(doc.components.securitySchemes, { jwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } });
    const op = doc.paths['/orders/{id}'].get;
    assert.deepEqual(op.security, [{ jwt: ['orders:read'] }]);
    assert.ok(['401', '403', '503'].every((s) => s in op.responses));
  });

  it('counts refusals by scheme and reason, and never logs a token', async () => {
    const secretToken = await token(rsa, { scope: 'profile' });
    await flow.fetch('/orders/1', bearer(secretToken));
    const metrics = await (await fetch(`${flow.adminUrl}/metrics`)).text();
    assert.match(metrics, /weft_http_auth_rejections_total\{scheme="jwt",reason="missing",flow="secured"\} [1-9]/);
    assert.match(metrics, /weft_http_auth_rejections_total\{scheme="jwt",reason="insufficient_scope",flow="secured"\} [1-9]/);
    assert.match(metrics, /weft_http_auth_rejections_total\{scheme="jwt",reason="expired",flow="secured"\} 1/);
    assert.ok(logs.text().includes('lacks the scope'), 'refusals are logged');
    assert.ok(!logs.text().includes(secretToken.split('.')[2]), 'the token is not in the log');
  });
});

describe('trigger auth: jwt unavailable key set', () => {
  it('answers 503 AUTH_UNAVAILABLE when the JWKS cannot be fetched', async () => {
    const dead = await startKeyServer([]);
    const url = dead.url;
    await dead.close();
    await withBackend(jwtFlow(), { JWKS: url }, async (flow, api) => {
      const key = await signingKey('k', 'RS256');
      await assertRefused(await flow.fetch('/orders/1', bearer(await token(key))), 503, 'AUTH_UNAVAILABLE', undefined);
      assert.equal(api.requests.length, 0);
    });
  });
});

describe('trigger auth: jwt with a configured key', () => {
  it('verifies with a PEM public key from a file, and a shared secret from env', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const flow = await startTestFlow(
      `weft: 1
name: pem
trigger:
  http:
    path: /me
    auth: { jwt: { key: { file: jwt.pem }, issuer: ${ISSUER} } }
steps:
  - transform: 'auth.claims.sub'
`,
      { files: { 'jwt.pem': pem } },
    );
    const secret = 'a-shared-secret-of-at-least-32-bytes!';
    const hmac = await startTestFlow(
      `weft: 1
name: hmac
trigger:
  http:
    path: /me
    auth: { jwt: { key: "\${env.JWT_SECRET}", audience: ${AUDIENCE} } }
steps:
  - transform: 'auth.claims.sub'
`,
      { env: { JWT_SECRET: secret } },
    );
    try {
      const es = await new SignJWT({ sub: 'grace' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setExpirationTime('1m').sign(privateKey);
      const res = await flow.fetch('/me', bearer(es));
      assert.equal(res.status, 200);
      assert.equal(await jsonOf(res), 'grace');
      // The default clockTolerance (30s) admits a token that expired a moment ago, not one long gone.
      const now = Math.floor(Date.now() / 1000);
      const late = (secondsAgo: number) => new SignJWT({ sub: 'grace' }).setProtectedHeader({ alg: 'ES256' }).setIssuer(ISSUER).setExpirationTime(now - secondsAgo).sign(privateKey);
      assert.equal((await flow.fetch('/me', bearer(await late(10)))).status, 200);
      await assertRefused(await flow.fetch('/me', bearer(await late(60))), 401, 'UNAUTHENTICATED', /expired/);
      // An RSA token cannot pass an EC key; a token for another issuer neither.
      const other = await signingKey('x', 'RS256');
      await assertRefused(await flow.fetch('/me', bearer(await token(other, {}, { iss: ISSUER }))), 401, 'UNAUTHENTICATED', /invalid_token/);

      const hs = await new SignJWT({ sub: 'hopper' }).setProtectedHeader({ alg: 'HS256' }).setAudience(AUDIENCE).setExpirationTime('1m').sign(new TextEncoder().encode(secret));
      assert.equal(await jsonOf(await hmac.fetch('/me', bearer(hs))), 'hopper');
      const forged = await new SignJWT({ sub: 'hopper' }).setProtectedHeader({ alg: 'HS256' }).setAudience(AUDIENCE).setExpirationTime('1m').sign(new TextEncoder().encode(`${secret}x`));
      await assertRefused(await hmac.fetch('/me', bearer(forged)), 401, 'UNAUTHENTICATED', /invalid_token/);
    } finally {
      await flow.stop();
      await hmac.stop();
    }
  });
});

describe('trigger auth: introspection and token translation', () => {
  let auth: AuthServer;
  let api: Upstream;
  let flow: TestFlow;
  let counter: Upstream;
  let introspections = 0;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const verifyPem = publicKey.export({ type: 'spki', format: 'pem' }) as string;
  let backendClaims: Record<string, unknown>[] = [];

  before(async () => {
    auth = await startAuthServer({ scope: 'orders:read orders:write' });
    // A counting proxy in front of the real introspection endpoint.
    counter = await startUpstream(async (req, res) => {
      introspections++;
      const answer = await fetch(`${auth.issuer}/token/introspection`, { method: 'POST', headers: { authorization: req.headers.authorization!, 'content-type': req.headers['content-type']! }, body: req.body });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(await answer.text());
    });
    const key = await importSPKI(verifyPem, 'RS256');
    api = await startUpstream(async (req, res) => {
      try {
        const { payload } = await jwtVerify(String(req.headers.authorization).slice(7), key, { issuer: 'weft-gateway', audience: 'orders-service' });
        backendClaims.push(payload);
        json(res, 200, { ok: true });
      } catch (err) {
        json(res, 401, { error: (err as Error).message });
      }
    });
    flow = await startTestFlow(
      `weft: 1
name: translated
trigger:
  http:
    path: /orders
    auth:
      introspect:
        url: "\${env.INTROSPECT}"
        clientId: ${CLIENT.id}
        clientSecret: "\${env.CLIENT_SECRET}"
        scopes: [orders:read]
        cache: { maxEntries: 2, maxTtl: 1m }
        forward:
          jwt:
            signingKey: { file: signing.pem }
            issuer: weft-gateway
            audience: orders-service
            ttl: 2m
endpoints:
  orders:
    http:
      url: "\${env.API}"
      auth: { forward: true }
steps:
  - call: orders
    path: /v1/orders
  - transform: '{ "client": auth.claims.client_id, "scopes": auth.scopes, "backend": body.ok }'
`,
      { env: { INTROSPECT: counter.url, CLIENT_SECRET: CLIENT.secret, API: api.url }, files: { 'signing.pem': signingPem } },
    );
  });
  after(async () => {
    await flow.stop();
    await counter.close();
    await api.close();
    await auth.close();
  });

  const accessToken = async (scope = 'orders:read') => {
    const res = await fetch(auth.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
    });
    return ((await res.json()) as { access_token: string }).access_token;
  };

  it('exchanges the opaque token for claims, and the backend verifies the translated JWT', async () => {
    const t = await accessToken();
    backendClaims = [];
    for (let i = 0; i < 3; i++) {
      const res = await flow.fetch('/orders', bearer(t));
      const body = await jsonOf(res);
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.deepEqual(body, { client: CLIENT.id, scopes: ['orders:read'], backend: true });
    }
    assert.equal(introspections, 1, 'active answers are cached');
    assert.equal(backendClaims.length, 3);
    assert.equal(backendClaims[0].client_id, CLIENT.id);
    assert.equal(backendClaims[0].scope, 'orders:read');
    assert.equal(backendClaims[0].active, undefined, 'introspection fields are not copied');
    assert.ok((backendClaims[0].exp as number) - (backendClaims[0].iat as number) <= 120);
    assert.equal(backendClaims[1].jti, backendClaims[0].jti, 'one signature is reused while it is fresh');
  });

  it('answers 401 for an unknown or revoked token, 403 for a missing scope', async () => {
    await assertRefused(await flow.fetch('/orders', bearer('no-such-token')), 401, 'UNAUTHENTICATED', /error="invalid_token"/);
    const revoked = await accessToken();
    await auth.revoke(revoked);
    await assertRefused(await flow.fetch('/orders', bearer(revoked)), 401, 'UNAUTHENTICATED', /error="invalid_token"/);
    const writeOnly = await accessToken('orders:write');
    await assertRefused(await flow.fetch('/orders', bearer(writeOnly)), 403, 'FORBIDDEN', /insufficient_scope/);
  });

  it('keeps the cache bounded: the oldest token is introspected again', async () => {
    const tokens = [await accessToken(), await accessToken(), await accessToken()];
    const before = introspections;
    for (const t of tokens) assert.equal((await flow.fetch('/orders', bearer(t))).status, 200);
    assert.equal(introspections, before + 3);
    assert.equal((await flow.fetch('/orders', bearer(tokens[2]))).status, 200);
    assert.equal(introspections, before + 3, 'the newest is cached');
    assert.equal((await flow.fetch('/orders', bearer(tokens[0]))).status, 200);
    assert.equal(introspections, before + 4, 'the oldest was evicted (maxEntries 2)');
  });

  it('shares one introspection among concurrent requests with the same token', async () => {
    const t = await accessToken();
    const before = introspections;
    const answers = await Promise.all(Array.from({ length: 5 }, () => flow.fetch('/orders', bearer(t))));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(introspections, before + 1);
  });
});

describe('trigger auth: introspection endpoint failures', () => {
  it('answers 503 AUTH_UNAVAILABLE, without the cause in the body, when the endpoint fails or is not RFC 7662', async () => {
    const broken = await startUpstream((req, res) => (req.body.includes('garbage') ? json(res, 200, { ok: true }) : json(res, 500, { error: 'boom' })));
    const flowFor = (url: string) => `weft: 1
name: introspected
trigger:
  http:
    path: /x
    auth: { introspect: { url: "${url}", clientId: c, clientSecret: s, timeout: 2s } }
steps:
  - transform: '1'
`;
    const flow = await startTestFlow(flowFor(broken.url));
    try {
      for (const t of ['some-token', 'garbage-answer']) {
        const body = await assertRefused(await flow.fetch('/x', bearer(t)), 503, 'AUTH_UNAVAILABLE', undefined);
        assert.equal(body.detail, 'Credentials cannot be checked now', 'the endpoint address stays in the log');
      }
    } finally {
      await flow.stop();
      await broken.close();
    }
  });
});

describe('trigger auth: apiKey', () => {
  let flow: TestFlow;
  before(async () => {
    flow = await startTestFlow(
      `weft: 1
name: keyed
trigger:
  http:
    method: POST
    path: /ingest
    auth:
      apiKey:
        header: X-API-Key
        keys: ["\${env.KEY_A}", { file: keys.txt }]
steps:
  - transform: '{ "scheme": auth.scheme, "got": body }'
`,
      { env: { KEY_A: 'key-a-0123456789' }, files: { 'keys.txt': 'key-b-0123456789\nkey-c-0123456789\n' } },
    );
  });
  after(() => flow.stop());

  const post = (headers: Record<string, string>) => flow.fetch('/ingest', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{"n":1}' });

  it('accepts each configured key (env, and every line of a file)', async () => {
    for (const k of ['key-a-0123456789', 'key-b-0123456789', 'key-c-0123456789']) {
      const res = await post({ 'x-api-key': k });
      assert.equal(res.status, 200);
      assert.deepEqual(await jsonOf(res), { scheme: 'apiKey', got: { n: 1 } });
    }
  });

  it('refuses a wrong or missing key with 401 before reading the body', async () => {
    const wrong = await assertRefused(await post({ 'x-api-key': 'key-a-0123456789x' }), 401, 'UNAUTHENTICATED', /^ApiKey realm="keyed", header="x-api-key"$/);
    assert.match(String(wrong.detail), /not valid/);
    const missing = await assertRefused(await post({}), 401, 'UNAUTHENTICATED', /ApiKey/);
    assert.match(String(missing.detail), /required in the header x-api-key/);
    // The connection stays usable after a refused body.
    assert.equal((await post({ 'x-api-key': 'key-a-0123456789' })).status, 200);
  });

  it('declares the apiKey scheme in the OpenAPI document', async () => {
    const doc = await jsonOf(await fetch(`${flow.adminUrl}/openapi.json`));
    assert.deepEqual(doc.components.securitySchemes, { apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } });
    assert.deepEqual(doc.paths['/ingest'].post.security, [{ apiKey: [] }]);
  });

  it('takes the key from a query parameter when configured so', async () => {
    const q = await startTestFlow(
      `weft: 1
name: query-keyed
trigger:
  http: { path: /feed, auth: { apiKey: { query: api_key, keys: ["\${env.K}"] } } }
steps:
  - transform: '"ok"'
`,
      { env: { K: 'feed-key-123' } },
    );
    try {
      assert.equal((await q.fetch('/feed?api_key=feed-key-123')).status, 200);
      await assertRefused(await q.fetch('/feed?api_key=nope'), 401, 'UNAUTHENTICATED', /query="api_key"/);
      await assertRefused(await q.fetch('/feed?api_key=feed-key-123&api_key=x'), 401, 'UNAUTHENTICATED', /ApiKey/);
    } finally {
      await q.stop();
    }
  });
});

describe('trigger auth: load errors and forward without a token', () => {
  it('reports bad auth config with its line', async () => {
    const flowWith = (jwt: string) => `weft: 1
name: bad
trigger:
  http:
    path: /x
    auth:
      jwt:
${jwt}
steps:
  - transform: '1'
`;
    assertProblem(await loadProblems(flowWith('        jwks: "not a url"\n        algorithms: [none]')), 9, /FLOW_SCHEMA/);
    assertProblem(await loadProblems(flowWith('        key: "short"')), 8, /at least 32 bytes/);
    assertProblem(await loadProblems(flowWith('        jwks: https://idp.test/jwks\n        algorithms: [RS256, HS256]')), 9, /HS256 cannot be verified/);
    assertProblem(await loadProblems(flowWith('        issuer: x')), 8, /exactly one of `jwks`/);
  });

  it('a forward endpoint on a flow without a bearer token fails with UPSTREAM_AUTH, sending nothing', async () => {
    const yaml = `weft: 1
name: no-token
trigger:
  http: { path: /x }
endpoints:
  b: { http: { url: "\${env.API}", auth: { forward: true } } }
steps:
  - call: b
`;
    await withBackend(yaml, {}, async (flow, api) => {
      const res = await flow.fetch('/x');
      assert.equal(res.status, 502);
      assert.equal((await jsonOf(res)).code, 'UPSTREAM_AUTH');
      assert.equal(api.requests.length, 0);
    });
  });
});

describe('trigger auth through the real CLI', () => {
  it('weft run serves a jwt-protected route from a flow file', async () => {
    const key = await signingKey('cli-1', 'ES256');
    const keys = await startKeyServer([key.jwk]);
    const api = await startUpstream((req, res) => json(res, 200, { id: 1, auth: req.headers.authorization }));
    const file = writeFlow(jwtFlow());
    const proc = await spawnFlow(file, { JWKS: keys.url, API: api.url });
    try {
      const url = proc.lines.find((l) => l.msg === 'ready')!.url as string;
      const t = await token(key);
      const ok = await fetch(`${url}/orders/9`, bearer(t));
      assert.equal(ok.status, 200);
      assert.equal((await jsonOf(ok)).order.auth, `Bearer ${t}`);
      await assertRefused(await fetch(`${url}/orders/9`), 401, 'UNAUTHENTICATED', /Bearer realm="secured"/);
      const expired = await token(key, {}, { exp: Math.floor(Date.now() / 1000) - 120 });
      await assertRefused(await fetch(`${url}/orders/9`, bearer(expired)), 401, 'UNAUTHENTICATED', /invalid_token/);
      const logged = JSON.stringify(proc.lines);
      assert.ok(!logged.includes(t.split('.')[2]) && !logged.includes(expired.split('.')[2]), 'no token in the log');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await api.close();
      await keys.close();
    }
  });
});
