/**
 * The benchmark kit: every scenario against every target in one run, as ratios to the baselines.
 *   npm run bench [-- --targets weft,hono,node,nginx,nodered --scenarios s1,s2,s3,s4,s5
 *                    --duration 10 --warmup 10 --lead-in 2 --runs 3 --connections 50 --no-pin --no-docs]
 * S5 also starts a Thrift backend (bench/thrift-backend.ts).
 * Method (docs/benchmarks.md): a static nginx backend and wrk share one core, the targets the
 * other (taskset). For each load scenario all targets are up at once and measured in short
 * slices, in an order that rotates every round, after a warm-up slice each; a ratio is the
 * median of per-round ratios, so noise on this shared machine hits both sides of it alike.
 * Each measured slice follows a lead-in slice on the same target: a target idles while the
 * others are measured, V8 shrinks an idle heap, and the first seconds of load regrow it. The
 * lead-in's p99 is reported on its own ("p99 after idle"), not mixed into the steady figures.
 * Results go to bench/results/ (JSON), and unless --no-docs to docs/benchmarks.md and
 * docs/benchmarks.svg.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { canonical } from './lib/exact-json.ts';
import { collectMachine, weftEntry } from './lib/machine.ts';
import { startBackend } from './lib/nginx.ts';
import { startThriftBackend } from './lib/thrift-backend.ts';
import { cpuMs, defaultPinning, freePort, hasCommand, rssMb, sleep, stop, waitForAnswer, type Pinning, type Proc } from './lib/process.ts';
import { markdownTables, writeDocs } from './lib/report.ts';
import type { BenchResults, LoadRow, StartupRow, StartupSample } from './lib/results.ts';
import { median, pairedRatio, spread } from './lib/stats.ts';
import { runLoad, type LoadResult } from './lib/wrk.ts';
import { LOAD_SCENARIOS, SCENARIOS, SCENARIO_IDS, type ScenarioId } from './scenarios.ts';
import { COMPILE_CACHE, ROOT, TARGETS, type Target } from './targets.ts';

const { values } = parseArgs({
  options: {
    targets: { type: 'string', default: TARGETS.map((t) => t.name).join(',') },
    scenarios: { type: 'string', default: 's1,s2,s3,s4,s5' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '10' },
    'lead-in': { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    'no-pin': { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
  },
});

/** wrk and nginx come from Debian; as root the kit installs what is missing, once. */
function ensureTools(): void {
  const missing = [hasCommand('wrk') ? '' : 'wrk', hasCommand('/usr/sbin/nginx') ? '' : 'nginx-light'].filter(Boolean);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the benchmark needs ${missing.join(' and ')}: apt-get install ${missing.join(' ')}`);
  console.error(`installing ${missing.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...missing]]) {
    if (spawnSync('apt-get', args, { stdio: 'inherit', env }).status !== 0) throw new Error(`apt-get ${args[0]} failed`);
  }
}

const list = (s: string): string[] => s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
const scenarioIds = list(values.scenarios) as ScenarioId[];
for (const s of scenarioIds) {
  if (!SCENARIO_IDS.includes(s)) throw new Error(`unknown scenario ${s} (known: ${SCENARIO_IDS.join(', ')})`);
}
const settings = {
  targets: list(values.targets),
  scenarios: scenarioIds,
  durationS: Number(values.duration),
  warmupS: Number(values.warmup),
  leadInS: Number(values['lead-in']),
  runs: Math.max(1, Number(values.runs)),
  connections: Number(values.connections),
};
for (const [k, v] of Object.entries({ duration: settings.durationS, warmup: settings.warmupS, 'lead-in': settings.leadInS, runs: settings.runs, connections: settings.connections })) {
  if (!Number.isFinite(v) || v < 0 || v > 600) throw new Error(`--${k} must be a number from 0 to 600`);
}
for (const name of settings.targets) if (!TARGETS.some((t) => t.name === name)) throw new Error(`unknown target ${name} (known: ${TARGETS.map((t) => t.name).join(', ')})`);

ensureTools();
const pin: Pinning = defaultPinning(!values['no-pin']);
const skipped: { target: string; why: string }[] = [];
const targets: Target[] = [];
for (const t of TARGETS.filter((x) => settings.targets.includes(x.name))) {
  const why = t.unavailable();
  if (why) {
    skipped.push({ target: t.name, why });
    console.error(`skipping ${t.name}: ${why}`);
    continue;
  }
  t.prepare?.();
  targets.push(t);
}
const baselines = targets.filter((t) => t.baseline);
const log = (s: string) => console.error(s);
mkdirSync(COMPILE_CACHE, { recursive: true });

const backendPort = await freePort();
const backend = startBackend(pin.load, backendPort);
const running: Proc[] = [backend];
// S5's Thrift backend shares the load CPU with nginx and wrk, as the nginx backend does.
const thriftPort = scenarioIds.includes('s5') ? await freePort() : undefined;
if (thriftPort) running.push(await startThriftBackend(pin.load, thriftPort));
process.once('SIGINT', () => void Promise.all(running.map(stop)).then(() => process.exit(130)));

async function launch(t: Target, s: ScenarioId): Promise<{ proc: Proc; url: string; body: string; startupMs: number }> {
  const port = await freePort();
  const began = performance.now();
  const proc = t.start(s, { cpus: pin.target, port, backendPort, thriftPort });
  running.push(proc);
  const url = `http://127.0.0.1:${port}`;
  const body = await waitForAnswer(proc, url, SCENARIOS[s]);
  return { proc, url, body, startupMs: performance.now() - began };
}

async function close(proc: Proc): Promise<void> {
  await stop(proc);
  running.splice(running.indexOf(proc), 1);
}

const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

/** Baseline name -> median of per-round ratios of `metric`, for each baseline measured beside `self`. */
function ratiosTo<T>(self: string, samples: Map<string, T[]>, metric: (x: T) => number): Record<string, number> {
  const out: Record<string, number> = {};
  const own = samples.get(self)!.map(metric);
  for (const b of baselines) {
    const theirs = samples.get(b.name);
    if (theirs && b.name !== self) out[b.name] = pairedRatio(own, theirs.map(metric));
  }
  return out;
}

function loadRow(scenario: ScenarioId, t: Target, rounds: Map<string, LoadResult[]>, leadIns: Map<string, LoadResult[]>): LoadRow {
  const own = rounds.get(t.name)!;
  const leadIn = leadIns.get(t.name)!;
  const row: LoadRow = {
    scenario,
    target: t.name,
    rounds: own,
    rps: median(own.map((r) => r.rps)),
    p50Ms: median(own.map((r) => r.p50Ms)),
    p99Ms: median(own.map((r) => r.p99Ms)),
    rpsSpread: spread(own.map((r) => r.rps)),
    cpuUsPerReq: median(own.map((r) => r.cpuUsPerReq ?? NaN)),
    rpsRatio: ratiosTo(t.name, rounds, (r) => r.rps),
    p99Ratio: ratiosTo(t.name, rounds, (r) => r.p99Ms),
    leadIn,
    leadInP99Ms: median(leadIn.map((r) => r.p99Ms)),
    leadInP99Ratio: leadIn.length > 0 ? ratiosTo(t.name, leadIns, (r) => r.p99Ms) : {},
  };
  return row;
}

async function loadScenario(s: ScenarioId): Promise<LoadRow[]> {
  const here = targets.filter((t) => t.scenarios.includes(s));
  const up = new Map<string, { proc: Proc; url: string }>();
  let reference: string | undefined;
  for (const t of here) {
    const { proc, url, body } = await launch(t, s);
    up.set(t.name, { proc, url });
    // The equivalence test guards this too; here it stops a run that would compare unlike work.
    if (reference === undefined) reference = canonical(body);
    else if (canonical(body) !== reference) throw new Error(`${t.name} answers ${s} differently: ${body}`);
  }
  const slice = async (t: Target, seconds: number): Promise<LoadResult> => {
    const { url, proc } = up.get(t.name)!;
    const cpuBefore = cpuMs(proc.child.pid!);
    const result = await runLoad({ url, scenario: SCENARIOS[s], seconds, connections: settings.connections, cpus: pin.load });
    result.cpuUsPerReq = ((cpuMs(proc.child.pid!) - cpuBefore) * 1000) / Math.max(1, result.requests);
    return result;
  };
  if (settings.warmupS > 0) for (const t of here) await slice(t, settings.warmupS);
  const rounds = new Map<string, LoadResult[]>(here.map((t) => [t.name, []]));
  const leadIns = new Map<string, LoadResult[]>(here.map((t) => [t.name, []]));
  for (let r = 0; r < settings.runs; r++) {
    for (const t of rotate(here, r)) {
      if (settings.leadInS > 0) leadIns.get(t.name)!.push(await slice(t, settings.leadInS));
      const result = await slice(t, settings.durationS);
      if (result.errors > 0) log(`  ${s} ${t.name}: ${result.errors} errors in round ${r + 1}`);
      rounds.get(t.name)!.push(result);
      log(`  ${s} round ${r + 1} ${t.name.padEnd(8)} ${result.rps.toFixed(0).padStart(7)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  CPU ${result.cpuUsPerReq!.toFixed(0)} us/req`);
    }
  }
  for (const { proc } of up.values()) await close(proc);
  return here.map((t) => loadRow(s, t, rounds, leadIns));
}

/** S4: exec -> first proxied S1 answer, RSS after 0.5 s idle, RSS after one S1 load slice. */
async function startupSample(t: Target): Promise<StartupSample> {
  const { proc, url, startupMs } = await launch(t, 's4');
  await sleep(500);
  const rssIdleMb = rssMb(proc.child.pid!);
  await runLoad({ url, scenario: SCENARIOS.s1, seconds: Math.max(1, settings.durationS), connections: settings.connections, cpus: pin.load });
  const rssLoadedMb = rssMb(proc.child.pid!);
  await close(proc);
  return { startupMs, rssIdleMb, rssLoadedMb };
}

async function startupScenario(): Promise<StartupRow[]> {
  const here = targets.filter((t) => t.scenarios.includes('s4'));
  const entry = weftEntry();
  if (here.some((t) => t.name === 'weft')) log(`  weft runs its ${entry}${entry === 'bundle' ? '' : ' (npm run build makes the one-file runtime the container runs)'}`);
  for (const t of here) await startupSample(t); // warms the compile cache and the page cache
  const samples = new Map<string, StartupSample[]>(here.map((t) => [t.name, []]));
  for (let r = 0; r < settings.runs; r++) {
    for (const t of rotate(here, r)) {
      const x = await startupSample(t);
      samples.get(t.name)!.push(x);
      log(`  s4 round ${r + 1} ${t.name.padEnd(8)} ready ${x.startupMs.toFixed(0)} ms  RSS idle ${x.rssIdleMb.toFixed(1)} MB  after load ${x.rssLoadedMb.toFixed(1)} MB`);
    }
  }
  return here.map((t) => {
    const own = samples.get(t.name)!;
    const row: StartupRow = {
      target: t.name,
      samples: own,
      startupMs: median(own.map((x) => x.startupMs)),
      rssIdleMb: median(own.map((x) => x.rssIdleMb)),
      rssLoadedMb: median(own.map((x) => x.rssLoadedMb)),
      startupSpread: spread(own.map((x) => x.startupMs)),
      startupRatio: ratiosTo(t.name, samples, (x) => x.startupMs),
      rssIdleRatio: ratiosTo(t.name, samples, (x) => x.rssIdleMb),
    };
    return row;
  });
}

let results: BenchResults;
try {
  await waitForAnswer(backend, `http://127.0.0.1:${backendPort}`, { method: 'GET', path: '/items/42' }, 10_000);
  const load: LoadRow[] = [];
  for (const s of scenarioIds.filter((x) => LOAD_SCENARIOS.includes(x))) {
    log(`${SCENARIOS[s].title}`);
    load.push(...(await loadScenario(s)));
  }
  let startup: StartupRow[] = [];
  if (scenarioIds.includes('s4')) {
    log(SCENARIOS.s4.title);
    startup = await startupScenario();
  }
  results = { machine: collectMachine(pin), settings, load, startup, skipped };
} finally {
  for (const p of [...running].reverse()) await stop(p);
}

const dir = join(ROOT, 'bench/results');
mkdirSync(dir, { recursive: true });
const json = JSON.stringify(results, null, 2);
writeFileSync(join(dir, `${results.machine.date.replace(/[:.]/g, '-')}.json`), json);
writeFileSync(join(dir, 'latest.json'), json);
console.log(markdownTables(results));
if (!values['no-docs']) {
  writeDocs(results);
  console.error('updated docs/benchmarks.md and docs/benchmarks.svg');
}
