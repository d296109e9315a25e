/**
 * Runs several pieces of one message concurrently (parallel branches, foreach items) with the
 * two failure policies a user chooses between: fail fast (the first failure cancels the others'
 * in-flight calls, starts nothing new, waits for what is running to
 * settle, then fails with that first error) or settle (every piece finishes; a failure becomes
 * a `{ error: { code, message, status } }` record in its place).
 */
import { WeftError } from '../errors.ts';
import { ChildCancellation, type Cancellation } from './cancellation.ts';

export interface FanOutOptions {
  /** How many pieces run at once (Infinity: all). */
  concurrency: number;
  /** Record failures in place instead of failing fast. */
  settle: boolean;
  /** The parent's cancellation: when it fires, everything here is cancelled and fails. */
  cancel: Cancellation | undefined;
}

/** What a settled failure looks like where its result would be. */
export interface FailureRecord {
  error: { code: string; message: string; status: number };
}

export function failureRecord(e: WeftError): FailureRecord {
  return { error: { code: e.code, message: e.message, status: e.status } };
}

/** A piece's result, or a promise of it: a piece that finished synchronously costs no promise. */
export type Job = (index: number, cancel: Cancellation) => unknown;

/**
 * Calls `job(i, cancel)` for i in 0..n-1, at most `concurrency` at a time, and returns the
 * results in index order whatever order they finished in.
 */
export function fanOut(n: number, options: FanOutOptions, job: Job): Promise<unknown[]> {
  const group = new Group(n, options);
  if (options.concurrency >= n) group.startAll(job);
  else group.startWorkers(Math.max(1, options.concurrency), job);
  return group.done;
}

/**
 * The state of one fan-out. Pieces report through settled()/failed() instead of each running
 * in an async worker frame of its own: a parallel step of three calls used to cost three
 * worker frames plus Promise.all on every message.
 */
class Group {
  readonly results: unknown[];
  readonly done: Promise<unknown[]>;
  readonly #n: number;
  readonly #settle: boolean;
  /** The group's cancellation: fires with the parent's, or with the first failure (fail fast). */
  readonly cancel: ChildCancellation;
  #running = 0;
  #next = 0;
  #finished = false;
  #first: WeftError | undefined = undefined;
  #resolve!: (results: unknown[]) => void;
  #reject!: (err: WeftError) => void;

  constructor(n: number, options: FanOutOptions) {
    this.#n = n;
    this.#settle = options.settle;
    this.results = new Array(n);
    this.done = new Promise<unknown[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.cancel = new ChildCancellation(options.cancel);
  }

  /** Everything at once (parallel branches, an unbounded foreach): no queue to take from. */
  startAll(job: Job): void {
    while (this.#next < this.#n && !this.cancel.aborted) this.#start(this.#next++, job);
    this.#finishIfIdle();
  }

  /** `workers` pieces at a time: each one that ends starts the next, until none is left or the group failed. */
  startWorkers(workers: number, job: Job): void {
    // An async wrapper, so a piece that ends synchronously starts the next from a fresh
    // microtask rather than one stack frame deeper per item (a long foreach would overflow).
    const later = async (i: number, cancel: Cancellation): Promise<unknown> => job(i, cancel);
    const take = (): void => {
      if (this.#next < this.#n && !this.cancel.aborted) this.#start(this.#next++, later, take);
    };
    for (let w = 0; w < workers; w++) take();
    this.#finishIfIdle();
  }

  #start(i: number, job: Job, then?: () => void): void {
    this.#running++;
    let result: unknown;
    try {
      result = job(i, this.cancel);
    } catch (err) {
      this.#failed(i, err, then);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.#settled(i, value, then),
        (err: unknown) => this.#failed(i, err, then),
      );
    } else this.#settled(i, result, then);
  }

  #settled(i: number, value: unknown, then: (() => void) | undefined): void {
    this.results[i] = value;
    this.#ended(then);
  }

  #failed(i: number, err: unknown, then: (() => void) | undefined): void {
    const e = WeftError.from(err);
    if (this.#settle && !this.cancel.parent?.aborted) {
      this.results[i] = failureRecord(e);
    } else if (this.#first === undefined) {
      this.#first = e;
      this.cancel.abort(e);
    }
    this.#ended(then);
  }

  #ended(then: (() => void) | undefined): void {
    this.#running--;
    then?.();
    this.#finishIfIdle();
  }

  /** Settles `done` once nothing runs and nothing more will start. */
  #finishIfIdle(): void {
    if (this.#running > 0 || this.#finished) return;
    if (this.#next < this.#n && !this.cancel.aborted) return;
    this.#finished = true;
    this.cancel.release();
    if (this.#first !== undefined) this.#reject(this.#first);
    else if (this.cancel.parent?.aborted) this.#reject(new WeftError('ABORTED', 'the work was cancelled before it finished'));
    else this.#resolve(this.results);
  }
}
