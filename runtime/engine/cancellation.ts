/**
 * Cancellation of in-flight work: a message's calls, a fan-out group's pieces, one try of a
 * call under its time limit. A tree of these, not AbortSignals: an AbortController with its
 * EventTarget, listener records and a forwarding listener cost ~1.8 KB and ~10k instructions
 * per call (bench/gc.ts, bench/instructions.ts on S3), for a signal that almost never fires.
 * Here a cancellation is one small object, and listening is a push onto an array.
 *
 * APIs that take an AbortSignal (undici's request options) get one from signalOf(), made only
 * where such an API is called.
 */

/** Told once when the cancellation it listens to fires. */
export interface CancelListener {
  cancelled(reason: unknown): void;
}

export class Cancellation {
  #aborted = false;
  #reason: unknown = undefined;
  // One array, made on the first listener: most cancellations get one or two, many none.
  #listeners: CancelListener[] | undefined = undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  /** What abort() was given: a WeftError, a TimeoutError DOMException, or what a caller chose. */
  get reason(): unknown {
    return this.#reason;
  }

  /**
   * When the work under this must be done (epoch ms), for protocols that tell the server their
   * deadline (gRPC's grpc-timeout); undefined when it has no time limit. A time limit still
   * enforces it.
   */
  get deadline(): number | undefined {
    return undefined;
  }

  /** Calls `listener.cancelled(reason)` when this fires; at once when it has already fired. */
  listen(listener: CancelListener): void {
    if (this.#aborted) {
      listener.cancelled(this.#reason);
      return;
    }
    (this.#listeners ??= []).push(listener);
  }

  /** Stops telling `listener`: called when the work it guarded ended. */
  unlisten(listener: CancelListener): void {
    const all = this.#listeners;
    if (all === undefined) return;
    // The newest listener is the usual one to leave (work ends in the order it started, or later).
    const i = all.lastIndexOf(listener);
    if (i < 0) return;
    if (i === all.length - 1) all.pop();
    else all.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.#aborted) throw this.#reason;
  }

  /**
   * Fires once: later calls change nothing. Listeners run in the order they came; one that
   * throws does not keep the others from running, and its error is thrown from here after.
   */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const all = this.#listeners;
    this.#listeners = undefined;
    if (all === undefined) return;
    let broke: { err: unknown } | undefined;
    for (const l of all) {
      try {
        l.cancelled(reason);
      } catch (err) {
        broke ??= { err };
      }
    }
    if (broke) throw broke.err;
  }
}

/**
 * A cancellation that also fires when `parent` does (with the parent's reason), until
 * release() detaches it: a fan-out group under its message, a try under its call.
 */
export class ChildCancellation extends Cancellation implements CancelListener {
  readonly parent: Cancellation | undefined;

  constructor(parent: Cancellation | undefined) {
    super();
    this.parent = parent;
    parent?.listen(this);
  }

  cancelled(reason: unknown): void {
    this.abort(reason);
  }

  /** Detaches from the parent, so a finished child is not kept alive by a long-lived parent. */
  release(): void {
    this.parent?.unlisten(this);
  }
}

const signals = new WeakMap<Cancellation, AbortSignal>();

/**
 * An AbortSignal that aborts with `cancel`, for an API that only takes signals. Made once per
 * cancellation (and never listened to by it if it is never asked for).
 */
export function signalOf(cancel: Cancellation | undefined): AbortSignal | undefined {
  if (cancel === undefined) return undefined;
  let signal = signals.get(cancel);
  if (signal) return signal;
  const controller = new AbortController();
  signal = controller.signal;
  signals.set(cancel, signal);
  cancel.listen({ cancelled: (reason) => controller.abort(reason) });
  return signal;
}
