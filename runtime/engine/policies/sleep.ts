/** A wait that the caller's cancellation ends early (as ABORTED), so no policy outlives its message. */
import { WeftError } from '../../errors.ts';

export function sleep(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  if (signal?.aborted) return Promise.reject(new WeftError('ABORTED', `${what} was cancelled`));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new WeftError('ABORTED', `${what} was cancelled`));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
