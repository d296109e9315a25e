/**
 * Resilience policies on a real endpoint against a fault-injecting REST server on loopback:
 * exact attempt counts for retry, breaker transitions, bulkhead rejections, outlier ejection.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFaultyServer, until, type FaultyServer } from '../support/faulty.ts';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { jsonOf } from '../support/upstream.ts';

/** Endpoint name -> its YAML options (beside `http:`), and the calls each route makes. */
const ENDPOINTS: Record<string, string> = {
  retry3: 'retry: { attempts: 3, backoff: 1ms }',
  retryPost: 'retry: { attempts: 3, backoff: 1ms, nonIdempotent: true }',
  retryCodes: 'retry: { attempts: 4, backoff: 1ms, on: [UPSTREAM_STATUS] }',
  retryTimeout: 'timeout: 150ms\n    retry: { attempts: 2, backoff: 1ms }',
  breaker: 'circuitBreaker: { failures: 3, resetAfter: 300ms }',
  retryBreaker: 'retry: { attempts: 5, backoff: 1ms }\n    circuitBreaker: { failures: 2, resetAfter: 1h }',
  bulkhead: 'concurrency: 2',
  queued: 'concurrency: { limit: 1, queue: 1 }',
};

function flowYaml(): string {
  const endpoints = Object.entries(ENDPOINTS)
    .map(([name, options]) => `  ${name}:\n    http: { url: "\${env.BACKEND}" }\n    ${options}`)
    .join('\n');
  const branches = Object.keys(ENDPOINTS)
    .flatMap((name) => [
      `      - when: params.ep = "${name}" and query.post = "1"\n        steps: [ { call: ${name}, path: /${name}, body: '{ "x": 1 }' } ]`,
      `      - when: params.ep = "${name}"\n        steps: [ { call: ${name}, path: /${name} } ]`,
    ])
    .join('\n');
  return `weft: 1
name: resilience-test
trigger:
  http: { method: GET, path: /t/:ep }
endpoints:
  balanced:
    http: { urls: ["\${env.BACKEND}/a", "\${env.BACKEND}/b"], outlier: { failures: 2, cooldown: 1h } }
${endpoints}
steps:
  - choice:
      - when: params.ep = "balanced"
        steps: [ { call: balanced, path: /x } ]
${branches}
`;
}

describe('endpoint resilience against a fault-injecting server', () => {
  let server: FaultyServer;
  let flow: TestFlow;

  before(async () => {
    server = await startFaultyServer();
    flow = await startTestFlow(flowYaml(), { env: { BACKEND: server.url } });
  });
  after(async () => {
    await flow.stop();
    await server.close();
  });

  const call = (ep: string, post = false) => flow.fetch(`/t/${ep}${post ? '?post=1' : ''}`);
  const health = async (ep: string) => (await jsonOf(await fetch(`${flow.adminUrl}/readyz`))).checks[ep];

  describe('retry', () => {
    it('tries again after retryable answers and succeeds on the third try', async () => {
      server.script('/retry3', [503, 502]);
      const res = await call('retry3');
      assert.equal(res.status, 200);
      assert.deepEqual(await jsonOf(res), { n: 3 });
      assert.equal(server.calls('/retry3'), 3);
    });

    it('attempts counts every try: 3 attempts = 3 calls, then the last error', async () => {
      server.script('/retry3', [], 503);
      const res = await call('retry3');
      assert.equal(res.status, 502);
      assert.equal((await jsonOf(res)).code, 'UPSTREAM_STATUS');
      assert.equal(server.calls('/retry3'), 3);
    });

    it('retries a reset connection', async () => {
      server.script('/retry3', ['reset']);
      const res = await call('retry3');
      assert.equal(res.status, 200);
      assert.equal(server.calls('/retry3'), 2);
    });

    it('does not retry a 4xx answer', async () => {
      server.script('/retry3', [400]);
      assert.equal((await call('retry3')).status, 502);
      assert.equal(server.calls('/retry3'), 1);
    });

    it('does not retry a POST unless nonIdempotent is set', async () => {
      server.script('/retry3', [], 503);
      assert.equal((await call('retry3', true)).status, 502);
      assert.equal(server.calls('/retry3'), 1);
      server.script('/retryPost', [503, 503]);
      assert.equal((await call('retryPost', true)).status, 200);
      assert.equal(server.calls('/retryPost'), 3);
    });

    it('`on` lists the codes to retry, here every upstream status', async () => {
      server.script('/retryCodes', [404, 400, 500]);
      assert.equal((await call('retryCodes')).status, 200);
      assert.equal(server.calls('/retryCodes'), 4);
    });

    it('honours Retry-After on 429, and gives up at once when it asks for longer than maxBackoff', async () => {
      server.script('/retry3', [{ status: 429, headers: { 'retry-after': '0' } }]);
      assert.equal((await call('retry3')).status, 200);
      assert.equal(server.calls('/retry3'), 2);
      server.script('/retry3', [{ status: 503, headers: { 'retry-after': '3600' } }]);
      const res = await call('retry3');
      assert.equal(res.status, 502);
      assert.equal(server.calls('/retry3'), 1);
    });

    it('a try that times out is retried, and the timeout bounds each try', async () => {
      server.script('/retryTimeout', ['hold']);
      const pending = call('retryTimeout');
      const res = await pending;
      server.release();
      assert.equal(res.status, 200);
      assert.equal(server.calls('/retryTimeout'), 2);
    });
  });

  describe('circuit breaker', () => {
    it('opens after consecutive failures, fails fast, then half-opens and closes on success', async () => {
      server.script('/breaker', [], 500);
      for (let i = 0; i < 3; i++) assert.equal((await call('breaker')).status, 502);
      assert.equal(server.calls('/breaker'), 3);
      assert.equal((await health('breaker')).policies.circuit.state, 'open');

      const rejected = await call('breaker');
      assert.equal(rejected.status, 503);
      assert.equal((await jsonOf(rejected)).code, 'CIRCUIT_OPEN');
      assert.equal(server.calls('/breaker'), 3, 'no call reaches the upstream while open');

      await new Promise((r) => setTimeout(r, 350)); // past resetAfter (300ms): a wait, not a timing assertion
      assert.equal((await health('breaker')).policies.circuit.state, 'half-open');
      // A failed trial opens it again...
      assert.equal((await call('breaker')).status, 502);
      assert.equal(server.calls('/breaker'), 4);
      assert.equal((await health('breaker')).policies.circuit.state, 'open');
      // ...and a successful one closes it.
      await new Promise((r) => setTimeout(r, 350));
      server.script('/breaker', [], 200);
      assert.equal((await call('breaker')).status, 200);
      const circuit = (await health('breaker')).policies.circuit;
      assert.equal(circuit.state, 'closed');
      assert.equal(circuit.opened, 2);
      assert.equal(circuit.rejected, 1);
    });

    it('an open circuit stops retries: attempts 5 but the breaker opens after 2 failures', async () => {
      server.script('/retryBreaker', [], 503);
      const res = await call('retryBreaker');
      assert.equal(res.status, 503);
      assert.equal((await jsonOf(res)).code, 'CIRCUIT_OPEN');
      assert.equal(server.calls('/retryBreaker'), 2);
    });
  });

  describe('bulkhead', () => {
    it('rejects calls beyond the limit at once with 503 BULKHEAD_FULL', async () => {
      server.script('/bulkhead', [], 'hold');
      const first = [call('bulkhead'), call('bulkhead')];
      await until(() => server.held === 2, 'two calls are held upstream');
      const third = await call('bulkhead');
      assert.equal(third.status, 503);
      assert.equal((await jsonOf(third)).code, 'BULKHEAD_FULL');
      assert.deepEqual((await health('bulkhead')).policies.bulkhead, { inFlight: 2, queued: 0, rejected: 1 });
      server.release();
      for (const r of await Promise.all(first)) assert.equal(r.status, 200);
      assert.equal(server.calls('/bulkhead'), 2);
    });

    it('queue: N lets N calls wait for a slot', async () => {
      server.script('/queued', [], 'hold');
      const inFlight = call('queued');
      await until(() => server.held === 1, 'one call is held upstream');
      const waiting = call('queued');
      await until(async () => (await health('queued')).policies.bulkhead.queued === 1, 'the second call is queued');
      const rejected = await call('queued');
      assert.equal(rejected.status, 503);
      server.release();
      assert.equal((await inFlight).status, 200);
      await until(() => server.held === 1, 'the queued call reached the upstream');
      server.release();
      assert.equal((await waiting).status, 200);
      assert.equal(server.calls('/queued'), 2);
    });
  });

  describe('balancing over urls', () => {
    it('round robin, and a target that fails twice in a row is ejected', async () => {
      server.script('/a/x', [], 503);
      server.script('/b/x', [], 200);
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await call('balanced')).status);
      assert.equal(server.calls('/a/x'), 2);
      assert.equal(server.calls('/b/x'), 6);
      assert.deepEqual(statuses, [502, 200, 502, 200, 200, 200, 200, 200]);
      assert.match((await health('balanced')).detail, /ejected: /);
    });
  });
});
