/**
 * Cancellation signals for the per-message path. AbortSignal.any and AbortSignal.timeout cost
 * more than they look: `any` links signals through weak references the GC must trace, and a
 * `timeout` signal keeps its timer until it fires (30 s by default per call), so under load
 * hundreds of thousands of them pile up. A controller that listens to its parent and a plain
 * timer, both released as soon as the work is done, do the same job per message for less.
 */

/** A controller that also aborts (with the parent's reason) when `parent` does, until disposed. */
export interface Linked {
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  /** Stops listening to the parent and cancels the timer; call when the work is over. */
  dispose(): void;
  /** True when the timer of `withTimer` aborted the signal. */
  readonly timedOut: boolean;
}

export function linked(parent: AbortSignal | undefined, timeoutMs?: number): Linked {
  const controller = new AbortController();
  let timedOut = false;
  const onParent = (): void => controller.abort(parent!.reason);
  if (parent) {
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener('abort', onParent, { once: true });
  }
  // The same reason AbortSignal.timeout gives, so callers that tell a time-out from a
  // cancellation by `reason.name === 'TimeoutError'` keep working.
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
        }, timeoutMs);
  timer?.unref();
  return {
    signal: controller.signal,
    abort: (reason) => controller.abort(reason),
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      parent?.removeEventListener('abort', onParent);
    },
    get timedOut() {
      return timedOut;
    },
  };
}
