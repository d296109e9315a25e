/**
 * The http trigger's `cors` over real HTTP on loopback, asked the way a browser asks: the
 * preflight (allowed; refused for origin, method or header; an OPTIONS that is no preflight),
 * actual answers with and without an allowed Origin, error answers (problem documents, 405,
 * 429) carrying the headers, and the load errors. Steps call a real upstream that counts
 * requests, so "the flow did not run" is observed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertProblem, loadProblems, startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, jsonOf, startUpstream, type Upstream } from '../support/upstream.ts';

const APP = 'https://app.example.com';

const flowWith = (cors: string, extra = '') => `weft: 1
name: cors
trigger:
  http:
    method: POST
    path: /orders/:id
    cors: ${cors}${extra}
endpoints:
  backend: { http: { url: "\${env.API:-http://127.0.0.1:9}" } }
steps:
  - choice:
      - when: body.fail = true
        steps:
          - fail: { status: 409, code: ORDER_CONFLICT, message: "order \${params.id} exists" }
  - call: backend
    method: POST
    path: /orders/\${params.id}
`;

const preflight = (origin: string | undefined, method: string, headers?: string): RequestInit => ({
  method: 'OPTIONS',
  headers: {
    ...(origin === undefined ? {} : { origin }),
    'access-control-request-method': method,
    ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
  },
});

const post = (origin: string | undefined, body: unknown = { id: 1 }): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(origin === undefined ? {} : { origin }) },
  body: JSON.stringify(body),
});

function corsHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((v, k) => {
    if (k.startsWith('access-control-')) out[k] = v;
  });
  return out;
}

describe('http trigger cors with a list of origins and credentials', () => {
  let api: Upstream;
  let flow: TestFlow;
  before(async () => {
    api = await startUpstream((req, res) => json(res, 200, { id: req.url }));
    flow = await startTestFlow(
      flowWith(`
      origins: ["${APP}", "HTTPS://Admin.Example.com:8443"]
      headers: [Content-Type, Authorization]
      exposeHeaders: [x-request-id, ratelimit-remaining]
      credentials: true
      maxAge: 10m`),
      { env: { API: api.url } },
    );
  });
  after(async () => {
    await flow.stop();
    await api.close();
  });

  it('answers an allowed preflight itself: 204 with the Access-Control-* headers, no step runs', async () => {
    const before = api.requests.length;
    const res = await flow.fetch('/orders/7', preflight(APP, 'POST', 'content-type, authorization'));
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.deepEqual(corsHeaders(res), {
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Content-Type, Authorization',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
    });
    assert.equal(res.headers.get('vary'), 'Origin');
    assert.ok(res.headers.get('x-request-id'));
    const other = await flow.fetch('/orders/7', preflight('https://admin.example.com:8443', 'POST'));
    assert.equal(other.status, 204);
    assert.equal(other.headers.get('access-control-allow-origin'), 'https://admin.example.com:8443', 'configured origins match in lower case');
    assert.equal(api.requests.length, before);
  });

  it('refuses a preflight from another origin, for another method or with another header: 403 CORS_REJECTED, no CORS headers', async () => {
    const cases: [RequestInit, RegExp][] = [
      [preflight('https://evil.example.com', 'POST'), /origin https:\/\/evil.example.com may not call/],
      [preflight(`${APP}:444`, 'POST'), /may not call/],
      [preflight(APP, 'DELETE'), /method DELETE is not allowed.*allowed: POST/],
      [preflight(APP, 'POST', 'content-type, x-secret'), /header x-secret may not be sent.*allowed: Content-Type, Authorization/],
    ];
    for (const [init, detail] of cases) {
      const res = await flow.fetch('/orders/7', init);
      assert.equal(res.status, 403);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      const doc = await jsonOf(res);
      assert.equal(doc.code, 'CORS_REJECTED');
      assert.match(doc.detail, detail);
      assert.deepEqual(corsHeaders(res), {});
    }
  });

  it('answers an OPTIONS that is no preflight with 204 and Allow', async () => {
    const res = await flow.fetch('/orders/7', { method: 'OPTIONS' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    assert.deepEqual(corsHeaders(res), {});
    const noOrigin = await flow.fetch('/orders/7', preflight(undefined, 'POST'));
    assert.equal(noOrigin.status, 204);
    assert.equal(noOrigin.headers.get('allow'), 'POST, OPTIONS');
    const elsewhere = await flow.fetch('/nowhere', preflight(APP, 'POST'));
    assert.equal(elsewhere.status, 404, 'only the route has a preflight');
  });

  it('marks actual answers for an allowed origin, and only for it', async () => {
    const ok = await flow.fetch('/orders/8', post(APP));
    assert.equal(ok.status, 200);
    assert.deepEqual(await jsonOf(ok), { id: '/orders/8' });
    assert.deepEqual(corsHeaders(ok), {
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, ratelimit-remaining',
    });
    assert.equal(ok.headers.get('vary'), 'Origin');

    const foreign = await flow.fetch('/orders/8', post('https://evil.example.com'));
    assert.equal(foreign.status, 200, 'CORS is not access control: the flow answers, the browser withholds it');
    await foreign.body?.cancel();
    assert.deepEqual(corsHeaders(foreign), {});
    assert.equal(foreign.headers.get('vary'), 'Origin', 'the answer still depends on Origin, for caches');

    const direct = await flow.fetch('/orders/8', post(undefined));
    await direct.body?.cancel();
    assert.deepEqual(corsHeaders(direct), {});
    assert.equal(direct.headers.get('vary'), 'Origin');
  });

  it('marks error answers too, so the page can read the problem document', async () => {
    const failed = await flow.fetch('/orders/9', post(APP, { fail: true }));
    assert.equal(failed.status, 409);
    assert.equal((await jsonOf(failed)).code, 'ORDER_CONFLICT');
    assert.equal(failed.headers.get('access-control-allow-origin'), APP);
    assert.equal(failed.headers.get('access-control-allow-credentials'), 'true');

    const malformed = await flow.fetch('/orders/9', { ...post(APP), body: '{nope' });
    assert.equal(malformed.status, 400);
    assert.equal(malformed.headers.get('access-control-allow-origin'), APP);
    await malformed.body?.cancel();

    const wrongMethod = await flow.fetch('/orders/9', { method: 'GET', headers: { origin: APP } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST, OPTIONS');
    assert.equal(wrongMethod.headers.get('access-control-allow-origin'), APP);
    await wrongMethod.body?.cancel();
  });
});

describe('http trigger cors for any origin, with a rate limit', () => {
  let api: Upstream;
  let flow: TestFlow;
  before(async () => {
    api = await startUpstream((req, res) => json(res, 200, { id: req.url }));
    flow = await startTestFlow(flowWith('{ origins: "*" }', '\n    rateLimit: { rate: 1, per: 1h }'), { env: { API: api.url } });
  });
  after(async () => {
    await flow.stop();
    await api.close();
  });

  it('allows any origin with "*" and lets the preflight have the headers it asks for', async () => {
    const res = await flow.fetch('/orders/1', preflight('https://anyone.example.org', 'POST', 'content-type,x-trace'));
    assert.equal(res.status, 204);
    assert.deepEqual(corsHeaders(res), {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type,x-trace',
    });
    assert.equal(res.headers.get('vary'), 'Access-Control-Request-Headers');
  });

  it('does not count preflights against the limit, and marks the 429 for the page', async () => {
    for (let i = 0; i < 3; i++) (await flow.fetch('/orders/2', preflight('https://a.example.org', 'POST'))).body?.cancel();
    const first = await flow.fetch('/orders/2', post('https://a.example.org'));
    assert.equal(first.status, 200, 'the preflights spent no token');
    assert.equal(first.headers.get('access-control-allow-origin'), '*');
    await first.body?.cancel();
    const over = await flow.fetch('/orders/2', post('https://a.example.org'));
    assert.equal(over.status, 429);
    assert.equal(over.headers.get('access-control-allow-origin'), '*');
    assert.equal((await jsonOf(over)).code, 'RATE_LIMITED');
  });
});

describe('http trigger cors: load errors', () => {
  it('reports bad options at their line', async () => {
    assertProblem(await loadProblems(flowWith('{ origins: "*", credentials: true }')), 7, /credentials: true needs a list of origins/);
    assertProblem(await loadProblems(flowWith('{ origins: ["https://app.example.com/"] }')), 7, /must be an origin: scheme:\/\/host\[:port\], without path or trailing slash/);
    assertProblem(await loadProblems(flowWith('{ origins: "https://app.example.com" }')), 7, /must be "\*"/);
    assertProblem(await loadProblems(flowWith('{ origins: "*", methods: [GET] }')), 7, /methods must include the route's own method POST/);
    assertProblem(await loadProblems(flowWith('{ origins: "*", maxAge: soon }')), 7, /FLOW_SCHEMA/);
    assertProblem(await loadProblems(flowWith('{ methods: [POST] }')), 7, /missing required key 'origins'/);
  });
});
