/** `timeout`: a time limit for one try of a call, connection included. */
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';

export function withTimeout(call: PreparedCall, ms: number, name: string): PreparedCall {
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
