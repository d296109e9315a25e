/**
 * Tests that need a real broker: skip with a visible reason when it is not running, except
 * under WEFT_REQUIRE_SERVICES=1 (CI), where an absent service is a failure.
 */
import { connect } from 'node:net';

export const REQUIRE_SERVICES = process.env.WEFT_REQUIRE_SERVICES === '1';

function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * `false` when the service is up; a skip reason when it is not. Throws under
 * WEFT_REQUIRE_SERVICES=1, so CI cannot pass by skipping.
 */
export async function serviceSkip(name: string, port: number): Promise<string | false> {
  if (await reachable(port)) return false;
  const reason = `${name} is not running on 127.0.0.1:${port}`;
  if (REQUIRE_SERVICES) throw new Error(`${reason} (WEFT_REQUIRE_SERVICES=1)`);
  return `${reason}; start it (see README) or set WEFT_REQUIRE_SERVICES=1 to fail instead`;
}

/** Polls `check` until it is truthy; bounded, so a broken test fails instead of hanging. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, limitMs = 30_000): Promise<T> {
  const until = Date.now() + limitMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits until the flow's /readyz answers 200 (its broker connections are up). */
export function ready(adminUrl: string): Promise<boolean> {
  return eventually(async () => (await fetch(`${adminUrl}/readyz`)).status === 200, `${adminUrl}/readyz`);
}
