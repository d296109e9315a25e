/**
 * Broker connections start in the background (a broker that is down must not stop the flow
 * from starting), but a flow should not begin consuming while its publish endpoints are still
 * connecting, or its first messages would fail and wait for a retry. start() therefore gives
 * the first connection a short grace period, then goes on either way.
 */
export const CONNECT_GRACE_MS = 2000;

/** Resolves when `first` settles or after `ms`, whichever comes first; never rejects. */
export function settleWithin(first: Promise<unknown>, ms = CONNECT_GRACE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([first.then(() => undefined, () => undefined), grace]).finally(() => clearTimeout(timer));
}
