/**
 * What a target's requests cost the garbage collector: bytes allocated, bytes promoted to the
 * old generation, collections and their pause time per request, read from V8's own GC trace
 * (`--trace-gc-nvp`). CPU time and req/s on this shared machine move by up to 2x between runs;
 * these counts barely move, so they show whether a change made the request path lighter.
 *   npm run bench:gc [-- --targets weft,hono --scenario s3 --warmup 10000 --requests 20000]
 * After `--warmup` requests the trace so far is set aside; the figures are over the next
 * `--requests` (sent `--connections` at a time). `--semi-space MB` sets V8's young generation
 * (default: V8's own sizing, as in a real run). `--idle S` waits S seconds between warm-up and
 * the measured requests, as the benchmark kit's slices do: V8 shrinks an idle heap meanwhile. `--survivors` also lists where the measured
 * requests allocated what outlived the young generation (bench/lib/survivor-sampler.ts).
 */
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
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
    survivors: { type: 'boolean', default: false },
    idle: { type: 'string', default: '0' },
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

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}
interface HeapProfile {
  head: ProfileNode;
}

/** The allocation sites holding most of the sampled survivors, each with the frames that led to it. */
function printSurvivors(name: string, profile: HeapProfile, requests: number): void {
  const sites = new Map<string, number>();
  const frame = (n: ProfileNode): string =>
    `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')}:${n.callFrame.lineNumber + 1}`;
  const walk = (n: ProfileNode, stack: string[]): void => {
    const here = [frame(n), ...stack];
    if (n.selfSize > 0) {
      const key = here.slice(0, 5).join(' < ');
      sites.set(key, (sites.get(key) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c, here);
  };
  walk(profile.head, []);
  const total = [...sites.values()].reduce((a, b) => a + b, 0);
  console.log(`${name}: ${(total / requests).toFixed(0)} B per request sampled as outliving the young generation; the largest sites:`);
  for (const [site, bytes] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(bytes / requests).toFixed(1).padStart(7)} B  ${site}`);
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
    const sampler = values.survivors ? ['--import', join(import.meta.dirname, 'lib/survivor-sampler.ts')] : [];
    // The target's environment is this process's (bench/targets.ts): the sampler finds its file there.
    process.env.WEFT_SURVIVORS_FILE = values.survivors ? `${log}.heapprofile` : '';
    return { launcher, nodeArgs: ['--trace-gc-nvp', ...sampler, ...(values['semi-space'] ? [`--max-semi-space-size=${values['semi-space']}`] : [])] };
  },
  async begin(pid) {
    await sleep(Number(values.idle) * 1000);
    if (values.survivors) process.kill(pid, 'SIGUSR2');
    await sleep(200);
    from = statSync(log).size;
  },
  async end(name, pid, { scenario, requests }) {
    if (values.survivors) {
      process.kill(pid, 'SIGUSR2');
      for (let i = 0; i < 100 && !existsSync(`${log}.heapprofile`); i++) await sleep(100);
      printSurvivors(name, JSON.parse(readFileSync(`${log}.heapprofile`, 'utf8')) as HeapProfile, requests);
    }
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
