/**
 * Cross-cutting behaviour that every endpoint kind gets the same way, composed once per
 * endpoint at load time around the connector's prepared calls (the way undici composes
 * interceptors). A connector only speaks its protocol; it never sees these options.
 *
 * Outside in: endpoint name tagging, retry, bulkhead, circuit breaker, timeout, the call.
 * Retry is outermost so every try passes the breaker (an open circuit stops the retries) and
 * a backoff wait holds no bulkhead slot; the bulkhead sits outside the breaker so rejected
 * calls never count as upstream failures; the timeout bounds one try. A policy that is not
 * configured is not in the chain at all: it costs nothing.
 */
import { performance } from 'node:perf_hooks';
import type { CallConfig, CallObserver, CompileContext, Endpoint, PolicyHealth, PreparedCall } from '../contract.ts';
import { WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';
import { parseDuration } from '../units.ts';
import { Bulkhead, concurrencySchema, withBulkhead, type ConcurrencyConfig } from './policies/bulkhead.ts';
import { CircuitBreaker, circuitBreakerSchema, withCircuitBreaker, type CircuitBreakerConfig } from './policies/circuit-breaker.ts';
import { retrySchema, withRetry, type RetryConfig } from './policies/retry.ts';
import { startCallLimit, withTimeLimit, withTimeout, type Limit, type Operation } from './policies/timeout.ts';

/** Options every endpoint takes beside its kind key. */
export const ENDPOINT_COMMON = {
  timeout: { ...ref.duration, description: 'Time limit for one try of a call, connection included. Default 30s.' },
  retry: retrySchema,
  circuitBreaker: circuitBreakerSchema,
  concurrency: concurrencySchema,
} as const;

export interface PolicyConfig {
  timeout?: string | number;
  retry?: RetryConfig;
  circuitBreaker?: CircuitBreakerConfig;
  concurrency?: ConcurrencyConfig;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Wraps an endpoint so that every call it prepares goes through the endpoint's policies.
 * `observer` (the process metrics) sees every call from the outside, all policies included.
 */
export function withPolicies(endpoint: Endpoint, config: PolicyConfig, observer?: CallObserver): Endpoint {
  const timeoutMs = config.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(config.timeout);
  const name = endpoint.name;
  // One breaker and one bulkhead per endpoint, shared by every call step that uses it.
  const breaker = config.circuitBreaker ? new CircuitBreaker(config.circuitBreaker) : undefined;
  const bulkhead = config.concurrency !== undefined ? new Bulkhead(config.concurrency) : undefined;
  const policies = (): PolicyHealth | undefined =>
    breaker || bulkhead ? { circuit: breaker?.snapshot(), bulkhead: bulkhead?.snapshot() } : undefined;

  const publisher = endpoint.publisher;
  return {
    name,
    kind: endpoint.kind,
    publisher: publisher && { codec: publisher.codec, send: tagged(withTimeLimit((m, cancel) => publisher.send(m, cancel), timeoutMs, name), name) },
    start: () => endpoint.start(),
    stop: (deadline) => endpoint.stop(deadline),
    health() {
      const own = endpoint.health();
      const p = policies();
      return p ? { ...own, policies: p } : own;
    },
    idempotent: (call: CallConfig) => endpoint.idempotent?.(call) ?? false,
    prepare(call: CallConfig, at: CompileContext): PreparedCall {
      const prepared = endpoint.prepare(call, at);
      // With the timeout as the only policy (the usual endpoint), the outermost wrapper limits
      // the try itself: one async frame per call instead of two.
      if (!breaker && !bulkhead && !config.retry) return outermost(prepared, name, endpoint.kind, observer, timeoutMs);
      let chain = withTimeout(prepared, timeoutMs, name);
      if (breaker) chain = withCircuitBreaker(chain, breaker, name);
      if (bulkhead) chain = withBulkhead(chain, bulkhead, name);
      const onRetry = observer?.retried ? (code: string) => observer.retried!(name, code) : undefined;
      if (config.retry) chain = withRetry(chain, config.retry, endpoint.idempotent?.(call) ?? false, name, onRetry);
      return outermost(chain, name, endpoint.kind, observer, undefined);
    },
  };
}

function tagged<A, R>(call: Operation<A, R>, name: string): Operation<A, R> {
  return async function withEndpointName(ex, cancel) {
    try {
      return await call(ex, cancel);
    } catch (err) {
      throw named(err, name);
    }
  };
}

function named(err: unknown, name: string): WeftError {
  const e = WeftError.from(err);
  e.endpoint ??= name;
  return e;
}

/**
 * The outermost wrapper of every prepared call: tags errors with the endpoint's name, makes one
 * observation per call as the step sees it (outcome, duration, retries included) when metrics
 * are on, and, given `timeoutMs`, is also the time limit of the (only) try.
 */
function outermost(call: PreparedCall, name: string, kind: string, observer: CallObserver | undefined, timeoutMs: number | undefined): PreparedCall {
  return async function endpointCall(ex, cancel) {
    const began = observer ? performance.now() : 0;
    let limit: Limit | undefined;
    try {
      if (timeoutMs !== undefined) limit = startCallLimit(ex, cancel, timeoutMs, name);
      const result = await call(ex, limit ?? cancel);
      observer?.observe(name, kind, undefined, (performance.now() - began) / 1000);
      return result;
    } catch (err) {
      const e = named(limit ? limit.failure(err, name) : err, name);
      observer?.observe(name, kind, e.code, (performance.now() - began) / 1000);
      throw e;
    } finally {
      limit?.end();
    }
  };
}
