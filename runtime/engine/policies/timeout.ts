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
 * its operation itself and calls end() in a finally, so a limited call is one async frame.
 */
class Limit {
  readonly signal: AbortSignal;
  #expired = false;
  readonly #timer: NodeJS.Timeout;
  readonly #outer: AbortSignal | undefined;
  readonly #forward: (() => void) | undefined;

  constructor(outer: AbortSignal | undefined, ms: number) {
    const controller = new AbortController();
    this.signal = controller.signal;
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

  /** True when the try ended because its time ran out (not because the caller cancelled). */
  ranOut(): boolean {
    return this.#expired && !this.#outer?.aborted;
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
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      if (limit.ranOut()) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err });
      throw err;
    } finally {
      limit.end();
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
    const limit = new Limit(signal, ms);
    try {
      return await call(ex, limit.signal);
    } catch (err) {
      if (signal?.aborted) throw new WeftError('ABORTED', `call to ${name} was cancelled`, { cause: err });
      if (limit.ranOut() && byDeadline) {
        throw new WeftError('DEADLINE_EXCEEDED', `${deadline!.what} ran out while ${name} had not answered (${ms} ms were left)`, { cause: err });
      }
      if (limit.ranOut()) throw new WeftError('TIMEOUT', `endpoint ${name} did not answer within ${ms} ms`, { cause: err });
      throw err;
    } finally {
      limit.end();
    }
  };
}
