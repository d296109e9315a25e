/**
 * Instructions per request on a target's main thread, counted by valgrind's callgrind: unlike
 * req/s or CPU time it does not move when other processes share the machine, so it shows a
 * change of a few percent on the request path that a noisy wall clock cannot.
 *   npm run bench:instructions [-- --targets weft,hono --scenario s1 --warmup 15000 --requests 5000]
 * Each target runs under callgrind; after `--warmup` requests (so V8 has optimised the hot path)
 * the counters are zeroed, `--requests` more are sent, and the counts are dumped. The main
 * thread's count is the request path; all threads' adds V8's concurrent GC and compiler work.
 * Both move up to ~6 % from run to run (when a GC falls in the window): compare medians of
 * several runs, or changes larger than that. The callgrind files stay in
 * bench/results/callgrind/ (callgrind_annotate shows Node's own C++; JIT code has no names).
 * Under valgrind a request takes ~50x longer: a target needs a few minutes.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { countPerTarget } from './lib/drive.ts';
import { hasCommand } from './lib/process.ts';
import { ROOT } from './targets.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: 'weft,hono' },
    scenario: { type: 'string', default: 's1' },
    warmup: { type: 'string', default: '15000' },
    requests: { type: 'string', default: '5000' },
    connections: { type: 'string', default: '8' },
  },
});
if (!hasCommand('valgrind') || !hasCommand('callgrind_control')) throw new Error('needs valgrind (apt-get install valgrind)');

function control(pid: number, ...args: string[]): void {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr || r.stdout}`);
}

/** Instruction totals of the dump callgrind_control -d wrote: the main thread's and all threads'. */
function dumpTotals(dir: string): { main: number; all: number } {
  let main = 0;
  let all = 0;
  for (const file of readdirSync(dir)) {
    const thread = /\.1-(\d+)$/.exec(file);
    if (!thread) continue;
    const m = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
    if (!m) throw new Error(`no totals in ${file}`);
    all += Number(m[1]);
    if (Number(thread[1]) === 1) main = Number(m[1]);
  }
  if (all === 0) throw new Error(`no dump in ${dir}`);
  return { main, all };
}

let dir = '';
await countPerTarget(values, {
  readyMs: 180_000,
  start(name) {
    mkdirSync(join(ROOT, 'bench/results/callgrind'), { recursive: true });
    dir = mkdtempSync(join(ROOT, `bench/results/callgrind/${name}-${values.scenario}-`));
    return { launcher: ['valgrind', '--tool=callgrind', '--separate-threads=yes', `--callgrind-out-file=${dir}/callgrind.out`] };
  },
  begin: (pid) => control(pid, '-z'),
  end(name, pid, { scenario, requests, warmup, connections }) {
    control(pid, '-d');
    const { main, all } = dumpTotals(dir);
    const k = (n: number): string => `${(n / requests / 1000).toFixed(1)}k`;
    console.log(`${name} ${scenario}: ${k(main)} instructions/request on the main thread, ${k(all)} on all threads (${requests} requests after ${warmup}, ${connections} connections; ${dir})`);
  },
});
