/** Prometheus /metrics on the admin port of a real running flow, scraped as Prometheus would. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestFlow, type TestFlow } from '../support/flow.ts';
import { json, startUpstream, type Upstream } from '../support/upstream.ts';

/** Parses the text exposition into `name{labels}` -> value (labels in the order served). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

function value(all: Map<string, number>, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const [key, v] of all) {
    if (!key.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => key.includes(w))) return v;
  }
  return undefined;
}

describe('metrics on the admin port', () => {
  let backend: Upstream;
  let flow: TestFlow;
  let release: () => void = () => {};

  before(async () => {
    backend = await startUpstream(async (req, res) => {
      if (req.url.startsWith('/held')) await new Promise<void>((r) => (release = r));
      if (req.url.startsWith('/down')) return json(res, 503, { down: true });
      json(res, 200, { item: req.url.split('/').pop() });
    });
    flow = await startTestFlow(
      `weft: 1
name: metered
trigger:
  http: { method: GET, path: /items/:id }
endpoints:
  catalog:
    http: { url: "\${env.BACKEND}" }
steps:
  - call: catalog
    path: "/\${params.id}"
`,
      { env: { BACKEND: backend.url } },
    );
  });
  after(async () => {
    release();
    await flow?.stop();
    await backend?.close();
  });

  const scrape = async () => {
    const res = await fetch(`${flow.adminUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    return { text, all: samples(text) };
  };

  it('counts requests by route and status, with latency histograms, and endpoint calls by outcome', async () => {
    const before = (await scrape()).all;
    assert.equal(value(before, 'weft_http_requests_total', { route: '/items/:id', status: '200' }) ?? 0, 0);

    for (let i = 0; i < 3; i++) assert.equal((await flow.fetch(`/items/a${i}`)).status, 200);
    assert.equal((await flow.fetch('/items/down')).status, 502);
    assert.equal((await flow.fetch('/nowhere/at/all')).status, 404);
    assert.equal((await flow.fetch('/items/x', { method: 'POST' })).status, 405);

    const { all, text } = await scrape();
    const labels = { flow: 'metered', route: '/items/:id', method: 'GET' };
    assert.equal(value(all, 'weft_http_requests_total', { ...labels, status: '200' }), 3);
    assert.equal(value(all, 'weft_http_requests_total', { ...labels, status: '502' }), 1);
    assert.equal(value(all, 'weft_http_requests_total', { route: '(unmatched)', status: '404' }), 1, 'raw paths never become labels');
    assert.equal(value(all, 'weft_http_requests_total', { route: '/items/:id', method: 'POST', status: '405' }), 1);
    assert.ok(!text.includes('/nowhere'), 'an unmatched path must not appear in the exposition');
    assert.equal(value(all, 'weft_http_request_duration_seconds_count', { ...labels, status: '200' }), 3);
    assert.equal(value(all, 'weft_http_request_duration_seconds_bucket', { ...labels, status: '200', le: '+Inf' }), 3);
    assert.ok((value(all, 'weft_http_request_duration_seconds_sum', { ...labels, status: '200' }) ?? 0) > 0);

    const call = { endpoint: 'catalog', kind: 'http' };
    assert.equal(value(all, 'weft_endpoint_calls_total', { ...call, outcome: 'ok' }), 3);
    assert.equal(value(all, 'weft_endpoint_calls_total', { ...call, outcome: 'UPSTREAM_STATUS' }), 1);
    assert.equal(value(all, 'weft_endpoint_errors_total', { ...call, code: 'UPSTREAM_STATUS' }), 1);
    assert.equal(value(all, 'weft_endpoint_call_duration_seconds_count', call), 4);

    // Process metrics, named by the convention (base units, _total on counters).
    assert.ok((value(all, 'weft_process_resident_memory_bytes', { flow: 'metered' }) ?? 0) > 0);
    assert.ok((value(all, 'weft_process_cpu_seconds_total', { flow: 'metered' }) ?? 0) > 0);
    assert.ok(value(all, 'weft_nodejs_eventloop_lag_seconds', { flow: 'metered' }) !== undefined);
    assert.match(text, /# TYPE weft_http_requests_total counter/);
    assert.match(text, /# TYPE weft_http_request_duration_seconds histogram/);
    assert.equal(value(all, 'weft_flow_info', { flow: 'metered' }), 1);
  });

  it('shows messages in flight while a request is held, and none after', async () => {
    const held = flow.fetch('/items/held');
    for (let i = 0; i < 200 && backend.requests.every((r) => !r.url.startsWith('/held')); i++) await new Promise((r) => setTimeout(r, 10));
    const during = (await scrape()).all;
    assert.equal(value(during, 'weft_messages_in_flight', { flow: 'metered' }), 1);
    release();
    assert.equal((await held).status, 200);
    const afterwards = (await scrape()).all;
    assert.equal(value(afterwards, 'weft_messages_in_flight', { flow: 'metered' }), 0);
  });

  describe('endpoint policies', () => {
    let guarded: TestFlow;
    before(async () => {
      guarded = await startTestFlow(
        `weft: 1
name: guarded
trigger:
  http: { method: GET, path: /down }
endpoints:
  flaky:
    http: { url: "\${env.BACKEND}" }
    retry: { attempts: 3, backoff: 1ms }
    circuitBreaker: { failures: 2, resetAfter: 1m }
    concurrency: 4
steps:
  - call: flaky
    path: /down
`,
        { env: { BACKEND: backend.url } },
      );
    });
    after(() => guarded?.stop());

    it('counts retries by cause and shows the breaker state and bulkhead load', async () => {
      const before = (await fetch(`${guarded.adminUrl}/metrics`).then((r) => r.text())).split('\n');
      assert.ok(before.some((l) => l === 'weft_endpoint_circuit_state{endpoint="flaky",state="closed",flow="guarded"} 1'), before.join('\n'));
      const downCalls = backend.requests.filter((r) => r.url === '/down').length;
      // Try 1 fails (503, retryable), retry; try 2 fails and opens the breaker (2 failures), retry;
      // try 3 meets the open circuit: CIRCUIT_OPEN is not retryable, so the call ends there.
      const res = await guarded.fetch('/down');
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { code: string }).code, 'CIRCUIT_OPEN');
      assert.equal(backend.requests.filter((r) => r.url === '/down').length - downCalls, 2);
      const all = samples(await fetch(`${guarded.adminUrl}/metrics`).then((r) => r.text()));
      assert.equal(value(all, 'weft_endpoint_retries_total', { endpoint: 'flaky', code: 'UPSTREAM_STATUS' }), 2);
      assert.equal(value(all, 'weft_endpoint_circuit_state', { endpoint: 'flaky', state: 'open' }), 1);
      assert.equal(value(all, 'weft_endpoint_circuit_state', { endpoint: 'flaky', state: 'closed' }), 0);
      assert.equal(value(all, 'weft_endpoint_bulkhead_in_flight', { endpoint: 'flaky' }), 0);
      assert.equal(value(all, 'weft_endpoint_calls_total', { endpoint: 'flaky', outcome: 'CIRCUIT_OPEN' }), 1);
    });
  });
});
