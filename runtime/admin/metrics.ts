/**
 * Prometheus metrics of one flow process (prom-client), scraped from the admin port at
 * /metrics. Each running flow owns its own registry rather than prom-client's global one, so
 * several flows in one test process never share or collide on series.
 *
 * Names follow the Prometheus conventions: `weft_` prefix, base units (seconds), `_total` on
 * counters. Label values are bounded sets (the one route, declared endpoint names, error
 * codes from the catalogue or a flow's `fail` codes, status codes): nothing per message.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import type { AuthObserver, CallObserver, PolicyHealth, RateLimitObserver, RequestObserver, TimerObserver } from '../contract.ts';
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
  /** For the trigger's `rateLimit`: one call per refused request. */
  readonly rateLimit: RateLimitObserver;
  /** For the timer trigger: registers its series on the first call. */
  timerRuns(): TimerObserver;
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

  const requests = new Latencies(['route', 'method', 'status'], LATENCY_BUCKETS);
  requests.counter(registry, 'weft_http_requests_total', 'Requests answered by the trigger, by route, method and status code.');
  requests.histogram(registry, 'weft_http_request_duration_seconds', 'Time from a request arriving to its answer being handed to the socket.', 3);
  new Gauge({
    name: 'weft_messages_in_flight',
    help: 'Messages the flow is working on now (requests, deliveries, timer runs).',
    registers: [registry],
    // Read at scrape time from the drain tracker: nothing to update per message.
    collect() {
      this.set(inflight.count);
    },
  });
  const calls = new Latencies(['endpoint', 'kind', 'outcome'], LATENCY_BUCKETS);
  calls.counter(registry, 'weft_endpoint_calls_total', 'Calls to declared endpoints, by endpoint, kind and outcome (ok or the error code).');
  // Durations by endpoint and kind: the outcomes of each are summed when scraped.
  calls.histogram(registry, 'weft_endpoint_call_duration_seconds', 'Duration of calls to declared endpoints, all policies included.', 2);
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
  const rateLimited = new Counter({
    name: 'weft_http_rate_limited_total',
    help: "Requests the trigger's rateLimit refused (429), by route.",
    labelNames: ['route'] as const,
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

  let timer: TimerObserver | undefined;
  const timerRuns = (): TimerObserver => (timer ??= timerMetrics(registry));

  return {
    registry,
    contentType: registry.contentType,
    timerRuns,
    scrape: () => registry.metrics(),
    watchPolicies(read) {
      policies = read;
    },
    requests: {
      observe(route, method, status, seconds) {
        requests.observe(route, method, String(status), seconds);
      },
    },
    calls: {
      observe(endpoint, kind, code, seconds) {
        calls.observe(endpoint, kind, code ?? 'ok', seconds);
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
    rateLimit: {
      rejected(route) {
        rateLimited.inc({ route });
      },
    },
  };
}

/**
 * Runs of the timer trigger. A few per minute at most, so prom-client's own metrics serve;
 * registered only by timer flows, so other flows do not expose series that stay zero.
 */
function timerMetrics(registry: Registry): TimerObserver {
  const runs = new Counter({
    name: 'weft_timer_runs_total',
    help: 'Runs of the timer trigger, by outcome (ok or the error code).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const seconds = new Histogram({
    name: 'weft_timer_run_duration_seconds',
    help: 'Duration of timer runs, from the tick to the end of the last step (on_error included).',
    buckets: RUN_BUCKETS,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'weft_timer_skipped_total',
    help: 'Timer ticks skipped because the previous run was still going.',
    registers: [registry],
  });
  return {
    ran(outcome, s) {
      runs.inc({ outcome });
      seconds.observe(s);
    },
    skipped() {
      skipped.inc();
    },
  };
}

/** Timer run buckets in seconds: 10 ms to 10 min, the range of polling and sync jobs. */
const RUN_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

// ---------------------------------------------------------------------------------------------
// Per-request bookkeeping.

/** One label set's observations: how many, their sum, and how many fell in each bucket. */
interface Series {
  readonly labels: Record<string, string>;
  readonly values: readonly [string, string, string];
  count: number;
  sum: number;
  /** Per bucket, not cumulative; index bounds.length is above the last bound. */
  readonly inBucket: Float64Array;
}

/** A sample as prom-client's registry formats it (the layout its own Histogram produces). */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  value: number;
}

/**
 * Latencies by a set of three labels, for what happens once per request or call. prom-client
 * builds a labels object, checks it and hashes it on every inc() and observe(), for the counter
 * and the histogram alike; here an observation is one Map lookup and a few additions. When
 * scraped, the series feed metrics in prom-client's own sample layout, registered in the same
 * registry, so the exposition (names, labels, buckets, default labels) is what a prom-client
 * Counter and Histogram would give.
 */
class Latencies {
  readonly #series = new Map<string, Series>();
  readonly #names: readonly [string, string, string];
  readonly #bounds: readonly number[];

  constructor(names: readonly [string, string, string], bounds: readonly number[]) {
    this.#names = names;
    this.#bounds = bounds;
  }

  observe(a: string, b: string, c: string, seconds: number): void {
    const s = this.#seriesOf(a, b, c);
    s.count++;
    s.sum += seconds;
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]) i++;
    s.inBucket[i]++;
  }

  // Most observations repeat the previous one's labels (one route, one endpoint, mostly one
  // status): compared first, which spares building and hashing a key string.
  #last: Series | undefined;
  #seriesOf(a: string, b: string, c: string): Series {
    const last = this.#last;
    if (last !== undefined && last.values[0] === a && last.values[1] === b && last.values[2] === c) return last;
    const key = `${a}\0${b}\0${c}`;
    let s = this.#series.get(key);
    if (s === undefined) {
      const [na, nb, nc] = this.#names;
      s = { labels: { [na]: a, [nb]: b, [nc]: c }, values: [a, b, c], count: 0, sum: 0, inBucket: new Float64Array(this.#bounds.length + 1) };
      this.#series.set(key, s);
    }
    return (this.#last = s);
  }

  /** A counter of the observations by all three labels. */
  counter(registry: Registry, name: string, help: string): void {
    register(registry, name, help, 'counter', () => [...this.#series.values()].map((s) => ({ labels: s.labels, value: s.count })), this.#reset);
  }

  /** A histogram by the first `keep` labels (the others' series are summed). */
  histogram(registry: Registry, name: string, help: string, keep: 2 | 3): void {
    register(registry, name, help, 'histogram', () => {
      const merged = new Map<string, { labels: Record<string, string>; count: number; sum: number; inBucket: number[] }>();
      for (const s of this.#series.values()) {
        const labels = keep === 3 ? s.labels : Object.fromEntries(this.#names.slice(0, keep).map((n) => [n, s.labels[n]]));
        const key = JSON.stringify(labels);
        let m = merged.get(key);
        if (!m) merged.set(key, (m = { labels, count: 0, sum: 0, inBucket: new Array<number>(s.inBucket.length).fill(0) }));
        m.count += s.count;
        m.sum += s.sum;
        s.inBucket.forEach((n, i) => (m.inBucket[i] += n));
      }
      const out: Sample[] = [];
      for (const m of merged.values()) {
        let below = 0;
        this.#bounds.forEach((le, i) => {
          below += m.inBucket[i];
          out.push({ metricName: `${name}_bucket`, labels: { le }, sharedLabels: m.labels, value: below });
        });
        out.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, sharedLabels: m.labels, value: m.count });
        out.push({ metricName: `${name}_sum`, labels: {}, sharedLabels: m.labels, value: m.sum });
        out.push({ metricName: `${name}_count`, labels: {}, sharedLabels: m.labels, value: m.count });
      }
      return out;
    }, this.#reset);
  }

  readonly #reset = (): void => {
    this.#series.clear();
    this.#last = undefined;
  };
}

/**
 * A metric whose samples come from `samples()` at scrape time, in the registry beside
 * prom-client's own. getForPromString is what the text exposition reads; get() (JSON) has the
 * shared labels spread into each sample's labels, as prom-client's metrics do.
 */
function register(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', samples: () => Sample[], reset: () => void): void {
  const data = (values: Sample[]) => ({ name, help, type, values, aggregator: 'sum' as const });
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    getForPromString: async () => data(samples()),
    get: async () => data(samples().map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } }))),
    reset,
  };
  registry.registerMetric(metric as unknown as Metric);
}
