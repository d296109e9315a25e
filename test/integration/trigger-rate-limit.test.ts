/**
 * The http trigger's `rateLimit` over real HTTP on loopback: the 429 problem with its code and
 * headers, refill, isolation per header, per address (two loopback source addresses) and per
 * verified claim, the metric, the OpenAPI answer and the load errors. Steps call a real
 * upstream that counts requests, so "no step ran" is observed, not assumed. The refill test
 * waits for what the 429 says (Retry-After): that is the protocol, and it only gets more
 * lenient on a slow machine. The bucket arithmetic itself is tested on a fake clock
 * (test/unit/connectors/rate-limit.test.ts).
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { assertProblem, loadProblems, startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, jsonOf, startUpstream, type Upstream } from '../support/upstream.ts';

const flowWith = (rateLimit: string, extra = '') => `weft: 1
name: limited
trigger:
  http:
    path: /items/:id
    rateLimit: ${rateLimit}${extra}
endpoints:
  backend: { http: { url: "\${env.API:-http://127.0.0.1:9}" } }
steps:
  - call: backend
    path: /items/\${params.id}
`;

async function refused(res: Response): Promise<{ retryAfter: number; doc: Record<string, unknown> }> {
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('content-type'), 'application/problem+json');
  const doc = (await jsonOf(res)) as Record<string, unknown>;
  assert.equal(doc.code, 'RATE_LIMITED');
  assert.equal(doc.status, 429);
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${res.headers.get('retry-after')}`);
  assert.equal(res.headers.get('ratelimit-remaining'), '0');
  return { retryAfter, doc };
}

describe('http trigger rateLimit', () => {
  let api: Upstream;
  before(async () => {
    api = await startUpstream((req, res) => json(res, 200, { id: req.url }));
  });
  after(() => api.close());

  it('answers 429 RATE_LIMITED with Retry-After and RateLimit-* once the burst is spent, without running a step', async () => {
    const flow = await startTestFlow(flowWith('{ rate: 2, per: 1m }'), { env: { API: api.url } });
    try {
      const before = api.requests.length;
      const first = await flow.fetch('/items/1');
      assert.equal(first.status, 200);
      assert.equal(first.headers.get('ratelimit-limit'), '2');
      assert.equal(first.headers.get('ratelimit-remaining'), '1');
      assert.equal(first.headers.get('ratelimit-reset'), '30', 'half the bucket comes back in 30 s');
      await first.body?.cancel();
      const second = await flow.fetch('/items/2');
      assert.equal(second.headers.get('ratelimit-remaining'), '0');
      await second.body?.cancel();
      const third = await flow.fetch('/items/3', { method: 'GET', headers: { 'x-request-id': 'over-1' } });
      const { retryAfter, doc } = await refused(third);
      assert.ok(retryAfter > 25 && retryAfter <= 30, `one token per 30 s: ${retryAfter}`);
      assert.equal(third.headers.get('ratelimit-limit'), '2');
      assert.equal(third.headers.get('x-request-id'), 'over-1');
      assert.equal(doc.requestId, 'over-1');
      assert.match(String(doc.detail), /more than 2 requests per 1m/);
      assert.equal(api.requests.length, before + 2, 'the refused request ran no step');

      const metrics = await (await fetch(`${flow.adminUrl}/metrics`)).text();
      assert.match(metrics, /weft_http_rate_limited_total\{route="\/items\/:id",flow="limited"\} 1\b/);
      assert.match(metrics, /weft_http_requests_total\{route="\/items\/:id",method="GET",status="429",flow="limited"\} 1\b/);
    } finally {
      await flow.stop();
    }
  });

  it('lets requests through again once the bucket refilled', async () => {
    const flow = await startTestFlow(flowWith('{ rate: 5, per: 1s, burst: 1 }'), { env: { API: api.url } });
    try {
      // However slow the machine, a burst of 1 is spent by a handful of back-to-back requests.
      let over: Response | undefined;
      for (let i = 0; i < 50 && over === undefined; i++) {
        const res = await flow.fetch('/items/r');
        if (res.status === 429) over = res;
        else await res.body?.cancel();
      }
      assert.ok(over, 'a burst of 1 was exceeded');
      const { retryAfter } = await refused(over);
      assert.equal(retryAfter, 1, 'a token every 200 ms, rounded up to whole seconds');
      await sleep(retryAfter * 1000);
      const again = await flow.fetch('/items/r');
      assert.equal(again.status, 200);
      assert.deepEqual(await jsonOf(again), { id: '/items/r' });
    } finally {
      await flow.stop();
    }
  });

  it('keeps a bucket per header value; requests without the header share one', async () => {
    const flow = await startTestFlow(flowWith('{ rate: 1, per: 1h, key: "header:X-Client" }'), { env: { API: api.url } });
    try {
      const as = (client?: string) => flow.fetch('/items/k', { headers: client === undefined ? {} : { 'x-client': client } });
      const statuses = async (...clients: (string | undefined)[]) => {
        const out: number[] = [];
        for (const c of clients) {
          const res = await as(c);
          await res.body?.cancel();
          out.push(res.status);
        }
        return out;
      };
      assert.deepEqual(await statuses('a', 'a', 'b', undefined, undefined, 'b', 'c'), [200, 429, 200, 200, 429, 429, 200]);
      const res = await as('a');
      assert.match(String((await refused(res)).doc.detail), /for this header X-Client/);
    } finally {
      await flow.stop();
    }
  });

  it('keeps a bucket per caller address', async () => {
    const flow = await startTestFlow(flowWith('{ rate: 1, per: 1h, key: ip }'), { env: { API: api.url } });
    const { port } = new URL(flow.url);
    // The whole of 127.0.0.0/8 is loopback on Linux: a second source address is a second caller.
    const from = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/items/ip', localAddress, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    try {
      assert.equal(await from('127.0.0.1'), 200);
      assert.equal(await from('127.0.0.1'), 429);
      assert.equal(await from('127.0.0.2'), 200, 'another address has its own bucket');
      assert.equal(await from('127.0.0.2'), 429);
    } finally {
      await flow.stop();
    }
  });

  it('keys by a verified claim after auth: refused callers spend nothing, each subject has its own bucket', async () => {
    const secret = 'a-shared-secret-of-at-least-32-bytes!';
    const flow = await startTestFlow(flowWith('{ rate: 1, per: 1h, key: "claim:sub" }', '\n    auth: { jwt: { key: "${env.JWT_SECRET}" } }'), {
      env: { API: api.url, JWT_SECRET: secret },
    });
    try {
      const tokenOf = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(secret));
      const as = async (token?: string) => {
        const res = await flow.fetch('/items/c', { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
        await res.body?.cancel();
        return res.status;
      };
      const ada = await tokenOf('ada');
      const bob = await tokenOf('bob');
      assert.equal(await as(), 401, 'no token: refused by auth, before the limit');
      assert.equal(await as(ada), 200);
      assert.equal(await as(ada), 429);
      assert.equal(await as(bob), 200);
      assert.equal(await as(), 401);
    } finally {
      await flow.stop();
    }
  });

  it('declares the 429 answer and its headers in the OpenAPI document', async () => {
    const flow = await startTestFlow(flowWith('{ rate: 10 }'), { env: { API: api.url } });
    try {
      const doc = await jsonOf(await fetch(`${flow.adminUrl}/openapi.json`));
      const answer = doc.paths['/items/{id}'].get.responses['429'];
      assert.match(answer.description, /RATE_LIMITED/);
      assert.deepEqual(Object.keys(answer.headers), ['Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset']);
    } finally {
      await flow.stop();
    }
  });

  it('reports bad options as load errors at their line', async () => {
    assertProblem(await loadProblems(flowWith('{ rate: 0 }')), 6, /FLOW_SCHEMA/);
    assertProblem(await loadProblems(flowWith('{ per: 1s }')), 6, /FLOW_SCHEMA.*rate/);
    assertProblem(await loadProblems(flowWith('\n      rate: 5\n      key: cookie')), 8, /ip, header:<name> or claim:<name>/);
    assertProblem(await loadProblems(flowWith('\n      rate: 5\n      per: 0s')), 8, /`per` must be longer than 0/);
    assertProblem(await loadProblems(flowWith('\n      rate: 5\n      key: "claim:sub"')), 8, /needs `auth`/);
    assertProblem(await loadProblems(flowWith('\n      rate: 5\n      burts: 5')), 8, /burst/);
  });
});
