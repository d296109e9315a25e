/**
 * Cross-cutting behaviour that every endpoint kind gets the same way, composed once per
 * endpoint at load time around the connector's prepared calls (the way undici composes
 * interceptors). A connector only speaks its protocol; it never sees these options.
 */
import { performance } from 'node:perf_hooks';
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
  return {
    name,
    kind: endpoint.kind,
    start: () => endpoint.start(),
    stop: (deadline) => endpoint.stop(deadline),
    health: () => endpoint.health(),
    prepare(call: CallConfig, at: CompileContext): PreparedCall {
      return tagged(withTimeout(endpoint.prepare(call, at), timeoutMs, name), name);
    },
  };
}

/**
 * The call's time limit is its endpoint's timeout, or what is left of the message's deadline
 * (a trigger or parallel `timeout`) when that is sooner: a call never outlives the budget of
 * the request it serves, and no call starts once the budget is spent.
 */
function withTimeout(call: PreparedCall, timeoutMs: number, name: string): PreparedCall {
  return async function timed(ex, signal) {
    const deadline = ex.deadline;
    let ms = timeoutMs;
    let byDeadline = false;
    if (deadline !== undefined) {
      const left = Math.ceil(deadline.at - performance.now());
      if (left <= 0) throw new WeftError('DEADLINE_EXCEEDED', `${deadline.what} was spent before the call to ${name} could start`);
      if (left < ms) {
        ms = left;
        byDeadline = true;
      }
    }
    const timer = AbortSignal.timeout(ms);
    const combined = signal ? AbortSignal.any([signal, timer]) : timer;
    callDeadlines.set(combined, Date.now() + ms);
    try {
      return await call(ex, combined);
    } catch (err) {
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      if (timer.aborted && byDeadline) {
        throw new WeftError('DEADLINE_EXCEEDED', `${deadline!.what} ran out while ${name} had not answered (${ms} ms were left)`, { cause: err });
      }
      if (timer.aborted) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err });
      throw err;
    }
  };
}

const callDeadlines = new WeakMap<AbortSignal, number>();

/**
 * When the call that got `signal` must be done (epoch ms), for protocols that tell the server
 * their deadline (gRPC's grpc-timeout). The policy's signal still enforces it.
 */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal === undefined ? undefined : callDeadlines.get(signal);
}

function tagged(call: PreparedCall, name: string): PreparedCall {
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
