/** parallel: branches really run at once, fail fast reaches the sockets, settle records failures. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { startScripted, type Scripted } from '../support/scripted.ts';
import { json, jsonOf } from '../support/upstream.ts';

describe('parallel', () => {
  let backend: Scripted;
  let flow: TestFlow;
  // Requests to /gate are held until three of them are in flight at once: a flow that ran the
  // branches one after another would never get an answer (and the test would fail on timeout).
  let gateOpen = false;

  before(async () => {
    backend = await startScripted(async (req, res, b) => {
      const path = req.url.split('?')[0];
      if (path.startsWith('/gate/')) {
        await b.until(() => gateOpen || b.inflight >= 3);
        gateOpen = true;
        return json(res, 200, { from: path.slice(6) });
      }
      if (path === '/ok') return json(res, 200, { ok: true });
      if (path === '/hold') return; // never answered: only an abort ends it
      if (path === '/fail-after-hold') {
        await b.until(() => b.order.includes('GET /hold'));
        return json(res, 503, { error: 'down' });
      }
      json(res, 500, { unexpected: path });
    });
    flow = await startTestFlow(
      `weft: 1
name: parallel-test
trigger:
  http: { method: POST, path: /p/:case }
endpoints:
  api:
    http: { url: "\${env.BACKEND}" }
    timeout: 10s
steps:
  - set: { seen: '"parent"' }
  - choice:
      - when: params.case = "gather"
        steps:
          - parallel:
              a: { call: api, path: /gate/a }
              b: { call: api, path: /gate/b }
              c:
                - call: api
                  path: /gate/c
                - set: { mine: '"c only"' }
                - transform: '{ "from": body.from, "saw": vars.seen, "item": $$.body }'
          - respond:
              body: '{ "a": vars.a, "b": vars.b, "c": vars.c, "leaked": vars.mine }'
      - when: params.case = "fail-fast"
        steps:
          - parallel:
              slow: { call: api, path: /hold }
              bad: { call: api, path: /fail-after-hold }
      - when: params.case = "settle"
        steps:
          - parallel:
              good: { call: api, path: /ok }
              bad: { call: api, path: /fail-after-hold }
              held: { call: api, path: /hold }
            settle: true
            timeout: 300ms
          - respond:
              status: '$exists(vars.bad.error) or $exists(vars.held.error) ? 207 : 200'
              body: '{ "good": vars.good, "bad": vars.bad, "held": vars.held }'
      - when: params.case = "timeout"
        steps:
          - parallel:
              held: { call: api, path: /hold }
            timeout: 200ms
      - when: params.case = "conflict"
        steps:
          - parallel:
              seen: { call: api, path: /ok }
      - when: params.case = "hangup"
        steps:
          - parallel:
              one: { call: api, path: /hold?hangup=1 }
              two: { call: api, path: /hold?hangup=2 }
            settle: true
          - call: api
            path: /ok?after-hangup
`,
      { env: { BACKEND: backend.url } },
    );
  });
  after(async () => {
    await flow.stop();
    await backend.close();
  });
  afterEach(() => {
    gateOpen = false;
  });

  const post = (c: string, body: unknown = { n: 1 }, signal?: AbortSignal) =>
    flow.fetch(`/p/${c}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

  it('runs the branches at the same time and gathers each result under its name', async () => {
    const res = await post('gather', { n: 7 });
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), {
      a: { from: 'a' },
      b: { from: 'b' },
      c: { from: 'c', saw: 'parent', item: { from: 'c' } },
    });
    assert.ok(backend.maxInflight >= 3, `expected 3 calls in flight at once, saw ${backend.maxInflight}`);
  });

  it('fails fast: the first failure aborts the sibling call, whose connection the backend sees close', async () => {
    const before = backend.abandoned.length;
    const res = await post('fail-fast');
    assert.equal(res.status, 502);
    const problem = await jsonOf(res);
    assert.equal(problem.code, 'UPSTREAM_STATUS');
    assert.equal(problem.step, 'steps[1].choice[1].steps[0].parallel.bad[0].call');
    await backend.until(() => backend.abandoned.length > before);
    assert.equal(backend.abandoned.at(-1), 'GET /hold');
  });

  it('settle: every branch finishes; failures are recorded per branch, nothing is dropped', async () => {
    const res = await post('settle');
    assert.equal(res.status, 207);
    const answer = await jsonOf(res);
    assert.deepEqual(answer.good, { ok: true });
    assert.deepEqual(answer.bad, { error: { code: 'UPSTREAM_STATUS', message: 'api answered 503 to GET /fail-after-hold', status: 502 } });
    assert.equal(answer.held.error.code, 'DEADLINE_EXCEEDED');
    assert.equal(answer.held.error.status, 504);
  });

  it('a group timeout cancels the calls still running with DEADLINE_EXCEEDED', async () => {
    const before = backend.abandoned.length;
    const res = await post('timeout');
    assert.equal(res.status, 504);
    const problem = await jsonOf(res);
    assert.equal(problem.code, 'DEADLINE_EXCEEDED');
    await backend.until(() => backend.abandoned.length > before);
  });

  it('a caller hanging up cancels the calls in flight (their connections close) and starts no more', async () => {
    const caller = new AbortController();
    const answer = post('hangup', { n: 1 }, caller.signal).catch((e: Error) => e);
    await backend.until(() => backend.order.includes('GET /hold?hangup=1') && backend.order.includes('GET /hold?hangup=2'));
    caller.abort();
    assert.equal(((await answer) as Error).name, 'AbortError');
    await backend.until(() => backend.abandoned.filter((r) => r.includes('hangup')).length === 2);
    // The metrics tell a hang-up (nginx's 499) from a failure; it is observed once the flow has
    // unwound. Without the cancellation the held calls would end by their 10 s timeout, which
    // `settle` records, and the next call would go out before that.
    const scrape = async () => (await (await fetch(`${flow.adminUrl}/metrics`)).text()).match(/weft_http_requests_total\{[^}]*status="499"[^}]*\} (\d+)/)?.[1];
    for (let i = 0; i < 200 && (await scrape()) === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await scrape(), '1');
    assert.equal(backend.order.includes('GET /ok?after-hangup'), false, 'no call after the hang-up');
  });

  it('a branch named like a variable already set is refused with VAR_CONFLICT', async () => {
    const calls = backend.order.length;
    const res = await post('conflict');
    assert.equal(res.status, 500);
    const problem = await jsonOf(res);
    assert.equal(problem.code, 'VAR_CONFLICT');
    assert.equal(problem.step, 'steps[1].choice[4].steps[0].parallel');
    assert.equal(backend.order.length, calls);
  });
});
