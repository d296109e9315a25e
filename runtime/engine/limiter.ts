/**
 * Runs at most `limit` jobs at once, the rest in arrival order (so `concurrency: 1` keeps a
 * queue's order). Broker triggers use it for `concurrency` when the broker hands over more
 * messages than may run (prefetch > concurrency). On shutdown the waiting jobs are handed
 * back unstarted, so the trigger can return them to the broker instead of running them.
 */
export interface Limiter<T> {
  /** Runs `run(item)` now or when a slot frees. */
  submit(item: T): void;
  /** Removes and returns every item not yet started. */
  drainWaiting(): T[];
  readonly running: number;
  /** Resolves when nothing runs (or `deadline` aborts). */
  idle(deadline: AbortSignal): Promise<void>;
}

export function createLimiter<T>(limit: number, run: (item: T) => Promise<void>): Limiter<T> {
  const waiting: T[] = [];
  let running = 0;
  const idlers: (() => void)[] = [];
  const start = (item: T): void => {
    running++;
    const done = (): void => {
      running--;
      const next = waiting.shift();
      if (next !== undefined) start(next);
      else if (running === 0) for (const wake of idlers.splice(0)) wake();
    };
    // `run` settles its own failures; a rejection here must still free the slot.
    run(item).then(done, done);
  };
  return {
    submit(item) {
      if (running < limit) start(item);
      else waiting.push(item);
    },
    drainWaiting: () => waiting.splice(0),
    get running() {
      return running;
    },
    idle(deadline) {
      if (running === 0 || deadline.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        idlers.push(resolve);
        deadline.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
}
