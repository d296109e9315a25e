/** foreach (order, bounded concurrency, collect) and try/catch against a real backend. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { startScripted, type Scripted } from '../support/scripted.ts';
import { json, jsonOf } from '../support/upstream.ts';

describe('foreach and try', () => {
  let backend: Scripted;
  let flow: TestFlow;
  let expected = 0;

  before(async () => {
    backend = await startScripted(async (req, res, b) => {
      const [, kind, id] = req.url.split('/');
      if (kind === 'pair') {
        // Held until two are in flight (or this is the last one), so a limit of 2 is reached
        // but never passed; the second of a pair answers first, to scramble completion order.
        const firstOfPair = (b.order.length - (expected - 5)) % 2 === 1;
        await b.until(() => b.inflight >= 2 || b.order.length >= expected);
        if (firstOfPair) await b.until(() => b.inflight < 2 || b.order.length >= expected);
        return json(res, 200, { id, doubled: Number(id) * 2 });
      }
      if (kind === 'item') return id === 'bad' ? json(res, 422, { error: `no ${id}` }) : json(res, 200, { id });
      if (kind === 'down') return json(res, 503, { error: 'down' });
      json(res, 500, { unexpected: req.url });
    });
    flow = await startTestFlow(
      `weft: 1
name: foreach-test
trigger:
  http: { method: POST, path: /f/:case }
endpoints:
  api:
    http: { url: "\${env.BACKEND}" }
steps:
  - choice:
      - when: params.case = "pairs"
        steps:
          - foreach:
              items: body.ids
              concurrency: 2
              steps:
                - call: api
                  path: /pair/\${body}
                - transform: '{ "id": body.id, "doubled": body.doubled, "index": vars.index }'
      - when: params.case = "fail"
        steps:
          - foreach:
              items: body.ids
              steps:
                - call: api
                  path: /item/\${body}
      - when: params.case = "collect"
        steps:
          - foreach:
              items: body.ids
              concurrency: 3
              collect: true
              as: results
              steps:
                - call: api
                  path: /item/\${body}
          - respond:
              body: '{ "results": vars.results, "failed": $count(vars.results[$exists(error)]), "body": body }'
      - when: params.case = "not-a-list"
        steps:
          - foreach: { items: body.ids, steps: [ { log: "never" } ] }
      - when: params.case = "try"
        steps:
          - try:
              steps:
                - call: api
                  path: /down/1
                - set: { never: true }
              catch:
                - set: { fallback: '{ "code": error.code, "status": error.upstream.status }' }
          - respond: { body: '{ "fallback": vars.fallback, "never": vars.never, "errorAfter": error }' }
      - when: params.case = "nested"
        steps:
          - try:
              steps:
                - try:
                    steps:
                      - call: api
                        path: /down/2
                    catch:
                      - set: { inner: error.code }
                      - fail: { status: 409, code: STILL_DOWN, message: "inner saw \${error.code}" }
              catch:
                - respond:
                    status: 409
                    body: '{ "inner": vars.inner, "outer": error.code, "message": error.message }'
on_error:
  - respond: { status: error.status, body: '{ "code": error.code, "index": error.index, "step": error.step }' }
`,
      { env: { BACKEND: backend.url } },
    );
  });
  after(async () => {
    await flow.stop();
    await backend.close();
  });

  const post = (c: string, body: unknown) =>
    flow.fetch(`/f/${c}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('keeps input order, gives each item its index, and never exceeds the concurrency limit', async () => {
    const ids = [1, 2, 3, 4, 5];
    expected = backend.order.length + ids.length;
    const res = await post('pairs', { ids });
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), ids.map((id, index) => ({ id: String(id), doubled: id * 2, index })));
    assert.equal(backend.maxInflight, 2);
  });

  it('fails on the first failing item, with its index, and starts no item after it', async () => {
    const before = backend.order.length;
    const res = await post('fail', { ids: ['a', 'bad', 'c', 'd'] });
    assert.equal(res.status, 502);
    assert.deepEqual(await jsonOf(res), { code: 'UPSTREAM_STATUS', index: 1, step: 'steps[0].choice[1].steps[0].foreach.steps[0].call' });
    assert.deepEqual(backend.order.slice(before), ['GET /item/a', 'GET /item/bad']);
  });

  it('collect: every item runs; a failed one holds its error in place; the body is untouched', async () => {
    const res = await post('collect', { ids: ['a', 'bad', 'c'] });
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), {
      results: [{ id: 'a' }, { error: { code: 'UPSTREAM_STATUS', message: 'api answered 422 to GET /item/bad', status: 502 } }, { id: 'c' }],
      failed: 1,
      body: { ids: ['a', 'bad', 'c'] },
    });
  });

  it('items that are not a list fail with ITEMS_NOT_ARRAY; nothing is an empty list', async () => {
    const res = await post('not-a-list', { ids: 'abc' });
    assert.equal(res.status, 500);
    assert.equal((await jsonOf(res)).code, 'ITEMS_NOT_ARRAY');
    const none = await post('not-a-list', {});
    assert.equal(none.status, 200);
    assert.deepEqual(await jsonOf(none), []);
  });

  it('try/catch: the catch sees error, may continue; error is gone after the try', async () => {
    const res = await post('try', {});
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { fallback: { code: 'UPSTREAM_STATUS', status: 503 } });
  });

  it('nested: an inner catch that fails again is caught by the outer one, which responds', async () => {
    const res = await post('nested', {});
    assert.equal(res.status, 409);
    assert.deepEqual(await jsonOf(res), { inner: 'UPSTREAM_STATUS', outer: 'STILL_DOWN', message: 'inner saw UPSTREAM_STATUS' });
  });
});
