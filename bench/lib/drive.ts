/**
 * A fixed number of requests from this process, for the probes that count what a target does
 * per request (bench/instructions.ts, bench/gc.ts): unlike wrk's timed load, the count is exact.
 */
import { Pool } from 'undici';
import type { Probe } from './process.ts';

/** Sends `count` requests for `probe`, `connections` at a time, each answered 200 with its body read. */
export async function drive(pool: Pool, probe: Probe, count: number, connections: number): Promise<void> {
  let left = count;
  const headers = probe.contentType ? { 'content-type': probe.contentType } : {};
  const worker = async (): Promise<void> => {
    while (left-- > 0) {
      const res = await pool.request({ method: probe.method as 'GET', path: probe.path, body: probe.body, headers });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`answered ${res.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
}
