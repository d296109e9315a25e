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
import { ChildCancellation, type Cancellation } from '../cancellation.ts';
import type { Deadline, Exchange } from '../exchange.ts';

/** Any endpoint operation: an argument and an optional cancellation. */
export type Operation<A, R> = (arg: A, cancel: Cancellation | undefined) => Promise<R>;

/**
 * The limit of one try: a cancellation that fires when `outer` does or `ms` pass. The caller
 * awaits its operation with the limit as its cancellation, maps a failure with failure() and
 * calls end() in a finally, so a limited call is one async frame.
 */
export class Limit extends ChildCancellation {
  #expired = false;
  readonly #ms: number;
  readonly #timer: NodeJS.Timeout;
  readonly #deadline: number;
  /** The message deadline that made this limit shorter than the endpoint's timeout. */
  readonly #byDeadline: Deadline | undefined;

  constructor(outer: Cancellation | undefined, ms: number, byDeadline?: Deadline) {
    super(outer);
    this.#ms = ms;
    this.#byDeadline = byDeadline;
    this.#deadline = Date.now() + ms;
    // The limit as the timer's argument, not a closure: one object less per call.
    this.#timer = setTimeout(Limit.#expire, ms, this);
  }

  static #expire(limit: Limit): void {
    limit.#expired = true;
    limit.abort(new DOMException('time limit reached', 'TimeoutError'));
  }

  override get deadline(): number {
    return this.#deadline;
  }

  /** What a failed try means: cancelled, out of budget, timed out, or the operation's own error. */
  failure(err: unknown, name: string): unknown {
    if (this.parent?.aborted) return new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
    if (!this.#expired) return err;
    if (this.#byDeadline) {
      return new WeftError('DEADLINE_EXCEEDED', `${this.#byDeadline.what} ran out while ${name} had not answered (${this.#ms} ms were left)`, { cause: err });
    }
    return new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${this.#ms} ms`, { cause: err });
  }

  end(): void {
    clearTimeout(this.#timer);
    this.release();
  }
}

/** A plain time limit for any endpoint operation (publishing, dead letters). */
export function withTimeLimit<A, R>(op: Operation<A, R>, ms: number, name: string): Operation<A, R> {
  return async function timeLimited(arg, cancel) {
    const limit = new Limit(cancel, ms);
    try {
      return await op(arg, limit);
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
 * caller awaits the call with `limit` as its cancellation, maps a failure with `limit.failure()` and calls
 * end() in a finally; the outermost endpoint wrapper does this itself when the timeout is the
 * only policy, so a call costs one async frame for both.
 */
export function startCallLimit(ex: Exchange, cancel: Cancellation | undefined, timeoutMs: number, name: string): Limit {
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
  return new Limit(cancel, ms, byDeadline);
}

/** The time limit of a prepared call, as its own wrapper (under a breaker, bulkhead or retry). */
export function withTimeout(call: PreparedCall, timeoutMs: number, name: string): PreparedCall {
  return async function timed(ex, cancel) {
    const limit = startCallLimit(ex, cancel, timeoutMs, name);
    try {
      return await call(ex, limit);
    } catch (err) {
      throw limit.failure(err, name);
    } finally {
      limit.end();
    }
  };
}
