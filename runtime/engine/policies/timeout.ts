/**
 * `timeout`: a time limit for one try of a call, connection included. The limit is the
 * endpoint's timeout, or what is left of the message's deadline (a trigger or parallel
 * `timeout`) when that is sooner: a call never outlives the budget of the request it serves,
 * and no call starts once the budget is spent.
 *
 * The limit is a plain timer cleared when the call ends, not AbortSignal.timeout: that one
 * costs several microseconds and keeps its timer alive for the whole timeout, so at thousands
 * of calls a second tens of thousands of 30 s timers would pile up.
 */
import { performance } from 'node:perf_hooks';
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';

/** Any endpoint operation: an argument and an optional cancellation signal. */
export type Operation<A, R> = (arg: A, signal: AbortSignal | undefined) => Promise<R>;

const EXPIRED = Symbol('expired');

const callDeadlines = new WeakMap<AbortSignal, number>();

/**
 * When the call that got `signal` must be done (epoch ms), for protocols that tell the server
 * their deadline (gRPC's grpc-timeout). The policy's signal still enforces it.
 */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal === undefined ? undefined : callDeadlines.get(signal);
}

/** Runs `op` with a signal that aborts when `outer` does or `ms` pass; throws EXPIRED in the latter case. */
async function limited<A, R>(op: Operation<A, R>, arg: A, outer: AbortSignal | undefined, ms: number): Promise<R> {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException('time limit reached', 'TimeoutError'));
  }, ms);
  callDeadlines.set(controller.signal, Date.now() + ms);
  const forward = () => controller.abort(outer?.reason);
  if (outer) {
    if (outer.aborted) forward();
    else outer.addEventListener('abort', forward, { once: true });
  }
  try {
    return await op(arg, controller.signal);
  } catch (err) {
    if (expired && !outer?.aborted) throw Object.assign(new Error('expired', { cause: err }), { [EXPIRED]: true });
    throw err;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forward);
  }
}

function isExpired(err: unknown): err is Error {
  return typeof err === 'object' && err !== null && EXPIRED in err;
}

/** A plain time limit for any endpoint operation (publishing, dead letters). */
export function withTimeLimit<A, R>(op: Operation<A, R>, ms: number, name: string): Operation<A, R> {
  return async function timeLimited(arg, signal) {
    try {
      return await limited(op, arg, signal, ms);
    } catch (err) {
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      if (isExpired(err)) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err.cause });
      throw err;
    }
  };
}

/** The time limit of a prepared call: the endpoint timeout, or the message's deadline when sooner. */
export function withTimeout(call: PreparedCall, timeoutMs: number, name: string): PreparedCall {
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
    try {
      return await limited(call, ex, signal, ms);
    } catch (err) {
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      if (isExpired(err) && byDeadline) {
        throw new WeftError('DEADLINE_EXCEEDED', `${deadline!.what} ran out while ${name} had not answered (${ms} ms were left)`, { cause: err.cause });
      }
      if (isExpired(err)) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err.cause });
      throw err;
    }
  };
}
