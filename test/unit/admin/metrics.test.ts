/**
 * The request and call metrics are kept by Weft's own per-series bookkeeping (cheaper per
 * observation than prom-client's), but must scrape exactly as prom-client's Counter and
 * Histogram would: checked here against prom-client itself, fed the same observations.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { createFlowMetrics } from '../../../runtime/admin/metrics.ts';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// Bounds themselves included: an observation equal to a bound falls in that bucket.
const SECONDS = [0.0001, 0.001, 0.0031, 0.01, 0.2, 0.2, 1, 7.5, 30, 31];

/** The exposition lines of the named metrics (HELP, TYPE and samples), in served order. */
function linesOf(text: string, names: string[]): string[] {
  return text.split('\n').filter((l) => names.some((n) => l.startsWith(`${n}{`) || l.startsWith(`${n}_`) || l.includes(` ${n} `)));
}

describe('request and call metrics', () => {
  it('scrape as prom-client Counters and Histograms fed the same observations', async () => {
    const weft = createFlowMetrics('f', { count: 0 });
    const reference = new Registry();
    reference.setDefaultLabels({ flow: 'f' });
    const requestsTotal = new Counter({ name: 'weft_http_requests_total', help: 'Requests answered by the trigger, by route, method and status code.', labelNames: ['route', 'method', 'status'], registers: [reference] });
    const requestSeconds = new Histogram({ name: 'weft_http_request_duration_seconds', help: 'Time from a request arriving to its answer being handed to the socket.', labelNames: ['route', 'method', 'status'], buckets: BUCKETS, registers: [reference] });
    const callsTotal = new Counter({ name: 'weft_endpoint_calls_total', help: 'Calls to declared endpoints, by endpoint, kind and outcome (ok or the error code).', labelNames: ['endpoint', 'kind', 'outcome'], registers: [reference] });
    const callSeconds = new Histogram({ name: 'weft_endpoint_call_duration_seconds', help: 'Duration of calls to declared endpoints, all policies included.', labelNames: ['endpoint', 'kind'], buckets: BUCKETS, registers: [reference] });

    SECONDS.forEach((s, i) => {
      const status = [200, 200, 502, 404][i % 4];
      const route = status === 404 ? '(unmatched)' : '/items/:id';
      weft.requests.observe(route, 'GET', status, s);
      requestsTotal.inc({ route, method: 'GET', status: String(status) });
      requestSeconds.observe({ route, method: 'GET', status: String(status) }, s);
      // Two outcomes of one endpoint: one series in the histogram, two in the counter.
      const outcome = i % 3 === 0 ? 'TIMEOUT' : undefined;
      const endpoint = i % 5 === 0 ? 'other' : 'backend';
      weft.calls.observe(endpoint, 'http', outcome, s);
      callsTotal.inc({ endpoint, kind: 'http', outcome: outcome ?? 'ok' });
      callSeconds.observe({ endpoint, kind: 'http' }, s);
    });

    const names = ['weft_http_requests_total', 'weft_http_request_duration_seconds', 'weft_endpoint_calls_total', 'weft_endpoint_call_duration_seconds'];
    const got = linesOf(await weft.scrape(), names);
    const want = linesOf(await reference.metrics(), names);
    assert.ok(want.length > 60);
    assert.deepEqual(got, want);
  });
});
