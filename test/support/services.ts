/**
 * Tests that need something outside Node (a broker, a Python peer) skip with a visible reason
 * when it is absent, except under WEFT_REQUIRE_SERVICES=1 (CI), where absence is a failure.
 */
export const REQUIRE_SERVICES = process.env.WEFT_REQUIRE_SERVICES === '1';

/** The `skip` option for describe/it: false when available, else the reason (or a throw in CI). */
export function skipUnless(available: boolean, reason: string): string | false {
  if (available) return false;
  if (REQUIRE_SERVICES) throw new Error(`WEFT_REQUIRE_SERVICES=1 but ${reason}`);
  return reason;
}
