/** Compensation order and context, failing compensations, request deadlines, load errors. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FlowLoadError } from '../../runtime/errors.ts';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { startScripted, type Scripted } from '../support/scripted.ts';
import { json, jsonOf } from '../support/upstream.ts';

describe('saga compensation and deadlines', () => {
  let backend: Scripted;
  let flow: TestFlow;

  before(async () => {
    backend = await startScripted(async (req, res) => {
      const path = req.url.split('?')[0];
      if (path === '/reserve') return json(res, 201, { id: 'R1', sku: JSON.parse(req.body).sku });
      if (path === '/charge') return json(res, 201, { id: 'C7' });
      if (path === '/ship') return json(res, 503, { error: 'no trucks' });
      if (path.startsWith('/undo/')) return path.includes('broken') ? json(res, 500, { error: 'cannot' }) : json(res, 200, { undone: true });
      if (path === '/slow') return void setTimeout(() => json(res, 200, { late: true }), 400);
      if (path === '/count') return json(res, 200, { counted: true });
      json(res, 500, { unexpected: path });
    });
    flow = await startTestFlow(
      `weft: 1
name: saga-test
trigger:
  http: { method: POST, path: /s/:case, timeout: 250ms }
endpoints:
  api:
    http: { url: "\${env.BACKEND}" }
    timeout: 10s
steps:
  - choice:
      - when: params.case = "saga" or params.case = "broken"
        steps:
          - call: api
            path: /reserve
            body: '{ "sku": body.sku }'
            as: reservation
            compensate:
              - call: api
                method: POST
                path: /undo/release/\${body.result.id}
                body: '{ "sku": body.request.sku, "cause": error.code }'
          - parallel:
              charge:
                call: api
                path: /charge
                body: '{}'
                compensate:
                  - call: api
                    method: POST
                    path: '/undo/refund/\${body.result.id}\${params.case = "broken" ? "/broken" : ""}'
          - call: api
            path: /ship
            body: '{ "reservation": vars.reservation.id, "charge": vars.charge.id }'
      - when: params.case = "budget"
        steps:
          - call: api
            path: /slow
      - when: params.case = "spent"
        steps:
          - try:
              steps: [ { call: api, path: /slow } ]
              catch: [ { set: { first: error.code } } ]
          - call: api
            path: /count
on_error:
  - respond:
      status: error.status
      body: '{ "code": error.code, "message": error.message, "compensated": error.compensated, "first": vars.first }'
`,
      { env: { BACKEND: backend.url } },
    );
  });
  after(async () => {
    await flow.stop();
    await backend.close();
  });

  const post = (c: string, body: unknown = {}) =>
    flow.fetch(`/s/${c}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('undoes every call that succeeded, last first, each with its own request and result', async () => {
    const before = backend.requests.length;
    const res = await post('saga', { sku: 'A-1' });
    assert.equal(res.status, 502);
    const answer = await jsonOf(res);
    assert.equal(answer.code, 'UPSTREAM_STATUS');
    assert.deepEqual(answer.compensated, [
      { step: 'steps[0].choice[0].steps[1].parallel.charge[0].call', endpoint: 'api', ok: true },
      { step: 'steps[0].choice[0].steps[0].call', endpoint: 'api', ok: true },
    ]);
    const seen = backend.requests.slice(before).map((r) => `${r.method} ${r.url} ${r.body}`);
    assert.deepEqual(seen, [
      'POST /reserve {"sku":"A-1"}',
      'POST /charge {}',
      'POST /ship {"reservation":"R1","charge":"C7"}',
      'POST /undo/refund/C7 {"request":{"sku":"A-1"},"result":{"id":"C7"}}',
      'POST /undo/release/R1 {"sku":"A-1","cause":"UPSTREAM_STATUS"}',
    ]);
  });

  it('a failing compensation is reported and does not stop the others', async () => {
    const before = backend.requests.length;
    const res = await post('broken', { sku: 'B-2' });
    const answer = await jsonOf(res);
    assert.equal(answer.compensated[0].ok, false);
    assert.equal(answer.compensated[0].error.code, 'UPSTREAM_STATUS');
    assert.equal(answer.compensated[1].ok, true);
    assert.ok(backend.requests.slice(before).some((r) => r.url === '/undo/release/R1'));
  });

  it('the problem document lists what was compensated', async () => {
    const bare = await startTestFlow(
      `weft: 1
name: saga-bare
trigger: { http: { method: POST, path: /x } }
endpoints: { api: { http: { url: "\${env.BACKEND}" } } }
steps:
  - call: api
    path: /charge
    body: '{}'
    compensate: [ { call: api, path: /undo/refund/x, body: '{}' } ]
  - fail: { status: 409, code: REJECTED, message: later step said no }
`,
      { env: { BACKEND: backend.url } },
    );
    try {
      const res = await bare.fetch('/x', { method: 'POST' });
      assert.equal(res.status, 409);
      const problem = await jsonOf(res);
      assert.equal(problem.code, 'REJECTED');
      assert.deepEqual(problem.compensated, [{ step: 'steps[0].call', endpoint: 'api', ok: true }]);
    } finally {
      await bare.stop();
    }
  });

  it('a call gets what is left of the request budget, not its own 10s timeout', async () => {
    const res = await post('budget');
    assert.equal(res.status, 504);
    const answer = await jsonOf(res);
    assert.equal(answer.code, 'DEADLINE_EXCEEDED');
    assert.match(answer.message, /request timeout of 250 ms ran out while api had not answered/);
  });

  it('no call starts once the budget is spent', async () => {
    const counted = backend.order.filter((o) => o.endsWith('/count')).length;
    const res = await post('spent');
    assert.equal(res.status, 504);
    const answer = await jsonOf(res);
    assert.equal(answer.first, 'DEADLINE_EXCEEDED');
    assert.match(answer.message, /was spent before the call to api could start/);
    assert.equal(backend.order.filter((o) => o.endsWith('/count')).length, counted);
  });

  it('load errors point at the line: unknown endpoint in a compensation, respond inside a branch', async () => {
    await assert.rejects(
      startTestFlow(`weft: 1
name: bad
trigger: { http: { path: /x } }
endpoints: { api: { http: { url: "http://127.0.0.1:1" } } }
steps:
  - call: api
    compensate:
      - call: apx
  - parallel:
      a:
        - respond: { status: 200 }
  - foreach:
      items: body
      steps: [ { try: { steps: [], catch: [ { respond: {} } ] } } ]
`),
      (err: unknown) => {
        assert.ok(err instanceof FlowLoadError);
        const lines = err.problems.map((p) => `${p.line}:${p.col} ${p.code}`);
        assert.deepEqual(lines, ['8:15 FLOW_REFERENCE', '11:20 FLOW_SCHEMA', '14:56 FLOW_SCHEMA']);
        assert.match(err.problems[0].message, /unknown endpoint 'apx'; did you mean 'api'/);
        assert.match(err.problems[1].message, /respond is not allowed inside a parallel branch/);
        return true;
      },
    );
  });
});
