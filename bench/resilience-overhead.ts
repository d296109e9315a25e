/**
 * Cost of the resilience policies on a passthrough flow: HTTP in -> http endpoint -> HTTP out,
 * once with no policy configured and once with timeout + retry + circuitBreaker, measured in
 * the same run, alternating rounds so machine noise hits both. Prints the throughput ratio.
 *   node bench/resilience-overhead.ts [seconds-per-round=2] [rounds=4]
 */
import { Agent, request } from 'undici';
import { startTestFlow } from '../test/support/flow.ts';
import { json, startUpstream } from '../test/support/upstream.ts';

const seconds = Number(process.argv[2] ?? 2);
const rounds = Number(process.argv[3] ?? 4);
const CONCURRENCY = 16;

const upstream = await startUpstream((_req, res) => json(res, 200, { ok: true, items: [1, 2, 3] }));
const flowWith = (policies: string) => `weft: 1
name: bench
trigger:
  http: { method: GET, path: /p }
endpoints:
  up:
    http: { url: "${upstream.url}" }
${policies}
steps:
  - call: up
    path: /data
`;
const plain = await startTestFlow(flowWith(''));
const guarded = await startTestFlow(flowWith('    timeout: 2s\n    retry: { attempts: 3, backoff: 50ms }\n    circuitBreaker: { failures: 5, resetAfter: 10s }'));
const agent = new Agent({ connections: CONCURRENCY });

async function measure(url: string): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const res = await request(`${url}/p`, { dispatcher: agent });
        await res.body.arrayBuffer();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
        done++;
      }
    }),
  );
  return done / seconds;
}

await measure(plain.url); // warm-up both
await measure(guarded.url);
const results = { plain: [] as number[], guarded: [] as number[] };
for (let r = 0; r < rounds; r++) {
  results.plain.push(await measure(plain.url));
  results.guarded.push(await measure(guarded.url));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const out = {
  plainRps: Math.round(median(results.plain)),
  guardedRps: Math.round(median(results.guarded)),
  ratio: Number((median(results.guarded) / median(results.plain)).toFixed(3)),
  rounds,
  secondsPerRound: seconds,
};
console.log(JSON.stringify(out));
await plain.stop();
await guarded.stop();
await upstream.close();
await agent.close();
