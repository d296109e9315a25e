/**
 * Tests that need something outside Node (a broker, a Python peer) skip with a visible reason
 * when it is absent, except under WEFT_REQUIRE_SERVICES=1 (CI), where absence is a failure.
 */
import { reachable } from '../../runtime/reachable.ts';

export const REQUIRE_SERVICES = process.env.WEFT_REQUIRE_SERVICES === '1';

/** The `skip` option for describe/it: false when available, else the reason (or a throw in CI). */
export function skipUnless(available: boolean, reason: string): string | false {
  if (available) return false;
  if (REQUIRE_SERVICES) throw new Error(`WEFT_REQUIRE_SERVICES=1 but ${reason}`);
  return `${reason}; install or start it, or set WEFT_REQUIRE_SERVICES=1 to fail instead`;
}

/** Skip option for a test that needs a service listening on 127.0.0.1:port. */
export async function serviceSkip(name: string, port: number): Promise<string | false> {
  return skipUnless(await reachable(port), `${name} is not running on 127.0.0.1:${port}`);
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
