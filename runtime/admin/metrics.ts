/**
 * Prometheus metrics of one flow process (prom-client), scraped from the admin port at
 * /metrics. Each running flow owns its own registry rather than prom-client's global one, so
 * several flows in one test process never share or collide on series.
 *
 * Names follow the Prometheus conventions: `weft_` prefix, base units (seconds), `_total` on
 * counters. Label values are bounded sets (the one route, declared endpoint names, error
 * codes from the catalogue or a flow's `fail` codes, status codes): nothing per message.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AuthObserver, CallObserver, PolicyHealth, RequestObserver } from '../contract.ts';
import type { CircuitState } from '../engine/policies/circuit-breaker.ts';

const CIRCUIT_STATES: readonly CircuitState[] = ['closed', 'half-open', 'open'];

export interface FlowMetrics {
  readonly registry: Registry;
  /** For a trigger: one call per answered request. */
  readonly requests: RequestObserver;
  /** For endpoint policies: one call per finished endpoint call. */
  readonly calls: CallObserver;
  /** For the trigger's `auth`: one call per refused request. */
  readonly auth: AuthObserver;
  /** Where the endpoints' policy state (breakers, bulkheads) is read at scrape time. */
  watchPolicies(read: () => Record<string, PolicyHealth | undefined>): void;
  /** Text exposition for /metrics. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** Request/call latency buckets in seconds: 1 ms to 30 s, the range an integration flow lives in. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createFlowMetrics(flow: string, inflight: { readonly count: number }): FlowMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ flow });
  collectDefaultMetrics({ register: registry, prefix: 'weft_' });

  const requestsTotal = new Counter({
    name: 'weft_http_requests_total',
    help: 'Requests answered by the trigger, by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const requestSeconds = new Histogram({
    name: 'weft_http_request_duration_seconds',
    help: 'Time from a request arriving to its answer being handed to the socket.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'weft_messages_in_flight',
    help: 'Messages the flow is working on now (requests, deliveries, timer runs).',
    registers: [registry],
    // Read at scrape time from the drain tracker: nothing to update per message.
    collect() {
      this.set(inflight.count);
    },
  });
  const callsTotal = new Counter({
    name: 'weft_endpoint_calls_total',
    help: 'Calls to declared endpoints, by endpoint, kind and outcome (ok or the error code).',
    labelNames: ['endpoint', 'kind', 'outcome'] as const,
    registers: [registry],
  });
  const callSeconds = new Histogram({
    name: 'weft_endpoint_call_duration_seconds',
    help: 'Duration of calls to declared endpoints, all policies included.',
    labelNames: ['endpoint', 'kind'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const callErrors = new Counter({
    name: 'weft_endpoint_errors_total',
    help: 'Failed calls to declared endpoints, by endpoint, kind and error code.',
    labelNames: ['endpoint', 'kind', 'code'] as const,
    registers: [registry],
  });
  const retries = new Counter({
    name: 'weft_endpoint_retries_total',
    help: 'Calls tried again by the endpoint retry policy, by endpoint and the error that caused it.',
    labelNames: ['endpoint', 'code'] as const,
    registers: [registry],
  });
  const authRejections = new Counter({
    name: 'weft_http_auth_rejections_total',
    help: "Requests the trigger's auth refused, by scheme (jwt, introspect, apiKey) and reason (missing, expired, signature, insufficient_scope, ...).",
    labelNames: ['scheme', 'reason'] as const,
    registers: [registry],
  });
  // Policy state is read from the policies when scraped: nothing is updated per call.
  let policies: () => Record<string, PolicyHealth | undefined> = () => ({});
  new Gauge({
    name: 'weft_endpoint_circuit_state',
    help: 'Circuit breaker state per endpoint: 1 for the current state (closed, half-open, open), 0 for the others.',
    labelNames: ['endpoint', 'state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, p] of Object.entries(policies())) {
        if (!p?.circuit) continue;
        for (const state of CIRCUIT_STATES) this.set({ endpoint, state }, p.circuit.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'weft_endpoint_bulkhead_in_flight',
    help: 'Calls in flight through an endpoint bulkhead (its concurrency limit).',
    labelNames: ['endpoint'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [endpoint, p] of Object.entries(policies())) if (p?.bulkhead) this.set({ endpoint }, p.bulkhead.inFlight);
    },
  });
  new Gauge({
    name: 'weft_flow_info',
    help: 'Always 1; labels name the flow this process runs.',
    registers: [registry],
  }).set(1);

  return {
    registry,
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    watchPolicies(read) {
      policies = read;
    },
    requests: {
      observe(route, method, status, seconds) {
        const labels = { route, method, status: String(status) };
        requestsTotal.inc(labels);
        requestSeconds.observe(labels, seconds);
      },
    },
    calls: {
      observe(endpoint, kind, code, seconds) {
        callsTotal.inc({ endpoint, kind, outcome: code ?? 'ok' });
        callSeconds.observe({ endpoint, kind }, seconds);
        if (code !== undefined) callErrors.inc({ endpoint, kind, code });
      },
      retried(endpoint, code) {
        retries.inc({ endpoint, code });
      },
    },
    auth: {
      rejected(scheme, reason) {
        authRejections.inc({ scheme, reason });
      },
    },
  };
}
