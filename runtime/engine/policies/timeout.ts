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
import type { Deadline, Exchange } from '../exchange.ts';

/** Any endpoint operation: an argument and an optional cancellation signal. */
export type Operation<A, R> = (arg: A, signal: AbortSignal | undefined) => Promise<R>;

/** Where a limited call's signal carries its deadline: a property, not a WeakMap entry per call (ephemerons cost the GC). */
const CALL_DEADLINE = Symbol('weft.callDeadline');
type LimitedSignal = AbortSignal & { [CALL_DEADLINE]?: number };

/**
 * When the call that got `signal` must be done (epoch ms), for protocols that tell the server
 * their deadline (gRPC's grpc-timeout). The policy's signal still enforces it.
 */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return (signal as LimitedSignal | undefined)?.[CALL_DEADLINE];
}

/**
 * The limit of one try: a signal that aborts when `outer` does or `ms` pass. The caller awaits
 * its operation itself, maps a failure with failure() and calls end() in a finally, so a
 * limited call is one async frame.
 */
export class Limit {
  readonly signal: AbortSignal;
  #expired = false;
  readonly #ms: number;
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  readonly #forward: (() => void) | undefined;
  /** The message deadline that made this limit shorter than the endpoint's timeout. */
  readonly #byDeadline: Deadline | undefined;

  constructor(outer: AbortSignal | undefined, ms: number, byDeadline?: Deadline) {
    const controller = new AbortController();
    this.signal = controller.signal;
    this.#ms = ms;
    this.#byDeadline = byDeadline;
    this.#timer = setTimeout(() => {
      this.#expired = true;
      controller.abort(new DOMException('time limit reached', 'TimeoutError'));
    }, ms);
    (this.signal as LimitedSignal)[CALL_DEADLINE] = Date.now() + ms;
    this.#outer = outer;
    if (outer) {
      const forward = (this.#forward = () => controller.abort(outer.reason));
      if (outer.aborted) forward();
      else outer.addEventListener('abort', forward, { once: true });
    }
  }

  /** What a failed try means: cancelled, out of budget, timed out, or the operation's own error. */
  failure(err: unknown, name: string): unknown {
    if (this.#outer?.aborted) return new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
    if (!this.#expired) return err;
    if (this.#byDeadline) {
      return new WeftError('DEADLINE_EXCEEDED', `${this.#byDeadline.what} ran out while ${name} had not answered (${this.#ms} ms were left)`, { cause: err });
    }
    return new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${this.#ms} ms`, { cause: err });
  }

  end(): void {
    clearTimeout(this.#timer);
    if (this.#forward) this.#outer!.removeEventListener('abort', this.#forward);
  }
}

/** A plain time limit for any endpoint operation (publishing, dead letters). */
export function withTimeLimit<A, R>(op: Operation<A, R>, ms: number, name: string): Operation<A, R> {
  return async function timeLimited(arg, signal) {
    const limit = new Limit(signal, ms);
    try {
      return await op(arg, limit.signal);
    } catch (err) {
      throw limit.failure(err, name);
    } finally {
      limit.end();
    }
  };
}

/**
 * Starts the limit of one try of a prepared call: the endpoint timeout, or what is left of the
 * message's deadline when that is sooner. Throws DEADLINE_EXCEEDED when nothing is left. The
 * caller awaits the call with `limit.signal`, maps a failure with `limit.failure()` and calls
 * end() in a finally; the outermost endpoint wrapper does this itself when the timeout is the
 * only policy, so a call costs one async frame for both.
 */
export function startCallLimit(ex: Exchange, signal: AbortSignal | undefined, timeoutMs: number, name: string): Limit {
  const deadline = ex.deadline;
  let ms = timeoutMs;
  let byDeadline: Deadline | undefined;
  if (deadline !== undefined) {
    const left = Math.ceil(deadline.at - performance.now());
    if (left <= 0) throw new WeftError('DEADLINE_EXCEEDED', `${deadline.what} was spent before the call to ${name} could start`);
    if (left < ms) {
      ms = left;
      byDeadline = deadline;
    }
  }
  return new Limit(signal, ms, byDeadline);
}

/** The time limit of a prepared call, as its own wrapper (under a breaker, bulkhead or retry). */
export function withTimeout(call: PreparedCall, timeoutMs: number, name: string): PreparedCall {
  return async function timed(ex, signal) {
    const limit = startCallLimit(ex, signal, timeoutMs, name);
    try {
      return await call(ex, limit.signal);
    } catch (err) {
      throw limit.failure(err, name);
    } finally {
      limit.end();
    }
  };
}
