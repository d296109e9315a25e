/**
 * Cross-cutting behaviour that every endpoint kind gets the same way, composed once per
 * endpoint at load time around the connector's prepared calls (the way undici composes
 * interceptors). A connector only speaks its protocol; it never sees these options.
 */
import type { CallConfig, CompileContext, Endpoint, PreparedCall } from '../contract.ts';
import { WeftError } from '../errors.ts';
import { ref } from '../flow/schema-parts.ts';
import { parseDuration } from '../units.ts';

/** Options every endpoint takes beside its kind key. */
export const ENDPOINT_COMMON = {
  timeout: { ...ref.duration, description: 'Time limit for one call, connection included. Default 30s.' },
} as const;

export interface PolicyConfig {
  timeout?: string | number;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

/** Wraps an endpoint so that every call it prepares goes through the endpoint's policies. */
export function withPolicies(endpoint: Endpoint, config: PolicyConfig): Endpoint {
  const timeoutMs = config.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(config.timeout);
  const name = endpoint.name;
  const publisher = endpoint.publisher;
  return {
    name,
    kind: endpoint.kind,
    publisher: publisher && { codec: publisher.codec, send: tagged(withTimeout((m, signal) => publisher.send(m, signal), timeoutMs, name), name) },
    start: () => endpoint.start(),
    stop: (deadline) => endpoint.stop(deadline),
    health: () => endpoint.health(),
    prepare(call: CallConfig, at: CompileContext): PreparedCall {
      return tagged(withTimeout(endpoint.prepare(call, at), timeoutMs, name), name);
    },
  };
}

/** Any endpoint operation: an argument and an optional cancellation signal. */
type Operation<A, R> = (arg: A, signal: AbortSignal | undefined) => Promise<R>;

function withTimeout<A, R>(call: Operation<A, R>, ms: number, name: string): Operation<A, R> {
  return async function timed(ex, signal) {
    const timer = AbortSignal.timeout(ms);
    const combined = signal ? AbortSignal.any([signal, timer]) : timer;
    try {
      return await call(ex, combined);
    } catch (err) {
      if (timer.aborted) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err });
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      throw err;
    }
  };
}

function tagged<A, R>(call: Operation<A, R>, name: string): Operation<A, R> {
  return async function withEndpointName(ex, signal) {
    try {
      return await call(ex, signal);
    } catch (err) {
      const e = WeftError.from(err);
      e.endpoint ??= name;
      throw e;
    }
  };
}
