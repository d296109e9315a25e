/**
 * Runs several pieces of one message concurrently (parallel branches, foreach items) with the
 * two failure policies a user chooses between: fail fast (the first failure aborts the others'
 * in-flight calls through their AbortSignal, starts nothing new, waits for what is running to
 * settle, then fails with that first error) or settle (every piece finishes; a failure becomes
 * a `{ error: { code, message, status } }` record in its place).
 */
import { WeftError } from '../errors.ts';

export interface FanOutOptions {
  /** How many pieces run at once (Infinity: all). */
  concurrency: number;
  /** Record failures in place instead of failing fast. */
  settle: boolean;
  /** The parent's signal: when it aborts, everything here aborts and fails. */
  signal: AbortSignal | undefined;
}

/** What a settled failure looks like where its result would be. */
export interface FailureRecord {
  error: { code: string; message: string; status: number };
}

export function failureRecord(e: WeftError): FailureRecord {
  return { error: { code: e.code, message: e.message, status: e.status } };
}

/**
 * Calls `job(i, signal)` for i in 0..n-1, at most `concurrency` at a time, and returns the
 * results in index order whatever order they finished in.
 */
export async function fanOut(
  n: number,
  options: FanOutOptions,
  job: (index: number, signal: AbortSignal) => Promise<unknown>,
): Promise<unknown[]> {
  const parent = options.signal;
  // The group's signal follows the parent through a listener removed when the group is done,
  // not AbortSignal.any, whose weak references cost GC time on every message.
  const group = new AbortController();
  const signal = group.signal;
  const forward = (): void => group.abort(parent!.reason);
  if (parent?.aborted) forward();
  else parent?.addEventListener('abort', forward, { once: true });
  const results: unknown[] = new Array(n);
  let next = 0;
  let first: WeftError | undefined;

  // Each worker takes the next index until none is left or the group failed: at most n turns.
  const worker = async (): Promise<void> => {
    while (next < n && !signal.aborted) {
      const i = next++;
      try {
        results[i] = await job(i, signal);
      } catch (err) {
        const e = WeftError.from(err);
        if (options.settle && !parent?.aborted) {
          results[i] = failureRecord(e);
        } else if (first === undefined) {
          first = e;
          group.abort(e);
        }
      }
    }
  };
  const workers = Math.min(options.concurrency, n);
  try {
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    parent?.removeEventListener('abort', forward);
  }
  if (first !== undefined) throw first;
  if (parent?.aborted) throw new WeftError('ABORTED', 'the work was cancelled before it finished');
  return results;
}
