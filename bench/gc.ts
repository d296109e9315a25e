/**
 * What a target's requests cost the garbage collector: bytes allocated, bytes promoted to the
 * old generation, collections and their pause time per request, read from V8's own GC trace
 * (`--trace-gc-nvp`). CPU time and req/s on this shared machine move by up to 2x between runs;
 * these counts barely move, so they show whether a change made the request path lighter.
 *   npm run bench:gc [-- --targets weft,hono --scenario s3 --warmup 10000 --requests 20000]
 * After `--warmup` requests the trace so far is set aside; the figures are over the next
 * `--requests` (sent `--connections` at a time). `--semi-space MB` sets V8's young generation
 * (default: V8's own sizing, as in a real run).
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { drive } from './lib/drive.ts';
import { startBackend } from './lib/nginx.ts';
import { freePort, sleep, stop, waitForAnswer } from './lib/process.ts';
import { LOAD_SCENARIOS, SCENARIOS, type ScenarioId } from './scenarios.ts';
import { targetNamed } from './targets.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'weft,hono' },
    scenario: { type: 'string', default: 's1' },
    warmup: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '20000' },
    connections: { type: 'string', default: '16' },
    'semi-space': { type: 'string' },
  },
});
const scenario = values.scenario as ScenarioId;
if (!LOAD_SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`);
const warmup = Number(values.warmup);
const measured = Number(values.requests);
const connections = Number(values.connections);
const probe = SCENARIOS[scenario];

interface GcTotals {
  allocated: number;
  promoted: number;
  scavenges: number;
  majors: number;
  pauseMs: number;
  maxPauseMs: number;
  /** The young generation's size at the last collection (V8 grows and shrinks it). */
  newSpaceBytes: number;
  /** What a major GC left alive (the last one's): what every major GC has to mark again. */
  liveAfterMajor: number;
}

/** Sums the `--trace-gc-nvp` lines of `text` (one per collection; gc=s is a scavenge). */
export function gcTotals(text: string): GcTotals {
  const t: GcTotals = { allocated: 0, promoted: 0, scavenges: 0, majors: 0, pauseMs: 0, maxPauseMs: 0, newSpaceBytes: 0, liveAfterMajor: 0 };
  for (const line of text.split('\n')) {
    const kind = / gc=(\w+)/.exec(line)?.[1];
    if (kind === undefined) continue;
    const field = (name: string): number => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0);
    if (kind === 's') t.scavenges++;
    else {
      t.majors++;
      t.liveAfterMajor = field('end_object_size');
    }
    t.allocated += field('allocated');
    t.promoted += field('promoted');
    const pause = field('pause');
    t.pauseMs += pause;
    t.maxPauseMs = Math.max(t.maxPauseMs, pause);
    t.newSpaceBytes = field('new_space_capacity') || t.newSpaceBytes;
  }
  return t;
}

const backendPort = await freePort();
const backend = startBackend(undefined, backendPort);
try {
  await waitForAnswer(backend, `http://127.0.0.1:${backendPort}`, { method: 'GET', path: '/items/42' }, 10_000);
  for (const name of values.targets.split(',')) {
    const target = targetNamed(name);
    if (!target || target.name === 'nginx' || !target.scenarios.includes(scenario)) throw new Error(`${name} is not a Node target of ${scenario}`);
    const log = join(mkdtempSync(join(tmpdir(), 'weft-gc-')), 'trace');
    // V8 prints the trace with stdio, fully buffered into a file: stdbuf makes it line-buffered
    // so the log can be cut at the start of the measured requests.
    const launcher = ['stdbuf', '-oL', 'sh', '-c', `exec "$0" "$@" > ${log}`];
    const nodeArgs = ['--trace-gc-nvp', ...(values['semi-space'] ? [`--max-semi-space-size=${values['semi-space']}`] : [])];
    const port = await freePort();
    const proc = target.start(scenario, { port, backendPort, launcher, nodeArgs });
    const pool = new Pool(`http://127.0.0.1:${port}`, { connections });
    try {
      await waitForAnswer(proc, `http://127.0.0.1:${port}`, probe, 60_000);
      await drive(pool, probe, warmup, connections);
      await sleep(200);
      const from = statSync(log).size;
      await drive(pool, probe, measured, connections);
      await sleep(200);
      const trace = readFileSync(log, 'utf8');
      const t = gcTotals(trace.slice(from));
      const live = gcTotals(trace).liveAfterMajor;
      const per = (n: number): string => (n / measured).toFixed(2);
      console.log(
        `${name} ${scenario}: ${(t.allocated / measured / 1024).toFixed(1)} KB allocated and ${(t.promoted / measured).toFixed(0)} B promoted per request; ` +
          `per 1000 requests ${(t.scavenges * 1000 / measured).toFixed(1)} scavenges, ${(t.majors * 1000 / measured).toFixed(2)} major GCs, ` +
          `${(t.pauseMs * 1000 / measured).toFixed(1)} ms GC pause (longest ${t.maxPauseMs.toFixed(1)} ms; ${per(t.pauseMs * 1000)} us/request); ` +
          `young generation ${(t.newSpaceBytes / 1048576).toFixed(1)} MB; ${(live / 1048576).toFixed(1)} MB alive after the last major GC`,
      );
    } finally {
      await pool.close();
      await stop(proc);
    }
  }
} finally {
  await stop(backend);
}
