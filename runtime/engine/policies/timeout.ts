/**
 * `timeout`: a time limit for one try of a call, connection included. The limit is the
 * endpoint's timeout, or what is left of the message's deadline (a trigger or parallel
 * `timeout`) when that is sooner: a call never outlives the budget of the request it serves,
 * and no call starts once the budget is spent.
 */
import { performance } from 'node:perf_hooks';
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';

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
    const timer = AbortSignal.timeout(ms);
    const combined = signal ? AbortSignal.any([signal, timer]) : timer;
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
