/** A wait that the caller's cancellation ends early (as ABORTED), so no policy outlives its message. */
import { WeftError } from '../../errors.ts';
import type { Cancellation } from '../cancellation.ts';

export function sleep(ms: number, cancel: Cancellation | undefined, what: string): Promise<void> {
  if (cancel?.aborted) return Promise.reject(new WeftError('ABORTED', `${what} was cancelled`));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const listener = {
      cancelled: () => {
        clearTimeout(timer);
        reject(new WeftError('ABORTED', `${what} was cancelled`));
      },
    };
    const timer = setTimeout(() => {
      cancel?.unlisten(listener);
      resolve();
    }, ms);
    cancel?.listen(listener);
  });
}
