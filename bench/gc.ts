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
import { countPerTarget } from './lib/drive.ts';
import { sleep } from './lib/process.ts';

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

let log = '';
let from = 0;
await countPerTarget(values, {
  readyMs: 60_000,
  start() {
    log = join(mkdtempSync(join(tmpdir(), 'weft-gc-')), 'trace');
    // V8 prints the trace with stdio, fully buffered into a file: stdbuf makes it line-buffered
    // so the log can be cut at the start of the measured requests.
    const launcher = ['stdbuf', '-oL', 'sh', '-c', `exec "$0" "$@" > ${log}`];
    return { launcher, nodeArgs: ['--trace-gc-nvp', ...(values['semi-space'] ? [`--max-semi-space-size=${values['semi-space']}`] : [])] };
  },
  async begin() {
    await sleep(200);
    from = statSync(log).size;
  },
  async end(name, _pid, { scenario, requests }) {
    await sleep(200);
    const trace = readFileSync(log, 'utf8');
    const t = gcTotals(trace.slice(from));
    const live = gcTotals(trace).liveAfterMajor;
    console.log(
      `${name} ${scenario}: ${(t.allocated / requests / 1024).toFixed(1)} KB allocated and ${(t.promoted / requests).toFixed(0)} B promoted per request; ` +
        `per 1000 requests ${((t.scavenges * 1000) / requests).toFixed(1)} scavenges, ${((t.majors * 1000) / requests).toFixed(2)} major GCs, ` +
        `${((t.pauseMs * 1000) / requests).toFixed(1)} ms GC pause (longest ${t.maxPauseMs.toFixed(1)} ms; ${(t.pauseMs * 1000 / requests).toFixed(2)} us/request); ` +
        `young generation ${(t.newSpaceBytes / 1048576).toFixed(1)} MB; ${(live / 1048576).toFixed(1)} MB alive after the last major GC`,
    );
  },
});
