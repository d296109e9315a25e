/**
 * CPU profile of one target under one scenario's load: where the time per request goes.
 *   npm run bench:profile [-- --target weft --scenario s1 --duration 10]
 * Writes the .cpuprofile to bench/results/profiles/ (open it in Chrome DevTools or speedscope)
 * and prints the functions with the most self time, and the share of time by file.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackend } from './lib/nginx.ts';
import { startThriftBackend } from './lib/thrift-backend.ts';
import { defaultPinning, freePort, stop, waitForAnswer } from './lib/process.ts';
import { runLoad } from './lib/wrk.ts';
import { LOAD_SCENARIOS, SCENARIOS, type ScenarioId } from './scenarios.ts';
import { ROOT, targetNamed } from './targets.ts';

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'weft' },
    scenario: { type: 'string', default: 's1' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
  },
});
const target = targetNamed(values.target);
const scenario = values.scenario as ScenarioId;
if (!target || target.name === 'nginx') throw new Error(`--target must be a Node target, not ${values.target}`);
if (!LOAD_SCENARIOS.includes(scenario) || !target.scenarios.includes(scenario)) throw new Error(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`);

const dir = join(ROOT, 'bench/results/profiles');
mkdirSync(dir, { recursive: true });
const before = new Set(readdirSync(dir));
const pin = defaultPinning(true);
const backendPort = await freePort();
const backend = startBackend(pin.load, backendPort);
const thriftPort = scenario === 's5' ? await freePort() : undefined;
const thrift = thriftPort ? await startThriftBackend(pin.load, thriftPort) : undefined;
const port = await freePort();
const proc = target.start(scenario, { cpus: pin.target, port, backendPort, thriftPort, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
try {
  await waitForAnswer(backend, `http://127.0.0.1:${backendPort}`, { method: 'GET', path: '/items/42' }, 10_000);
  const url = `http://127.0.0.1:${port}`;
  await waitForAnswer(proc, url, SCENARIOS[scenario]);
  const r = await runLoad({ url, scenario: SCENARIOS[scenario], seconds: Number(values.duration), connections: Number(values.connections), cpus: pin.load });
  console.log(`${target.name} ${scenario}: ${Math.round(r.rps)} req/s under the profiler, p50 ${r.p50Ms.toFixed(2)} ms, ${r.requests} requests`);
} finally {
  await stop(proc);
  await stop(backend);
  if (thrift) await stop(thrift);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile') && !before.has(f));
if (!file) throw new Error('the target wrote no profile (did it exit cleanly on SIGTERM?)');
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const perFile = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const f = byId.get(id)!.callFrame;
  const where = f.url ? relative(ROOT, f.url.replace('file://', '')) : '(native)';
  const key = `${f.functionName || '(anonymous)'}  ${where}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  const bucket = where.startsWith('node_modules/') ? where.split('/').slice(0, where.startsWith('node_modules/@') ? 3 : 2).join('/') : where;
  perFile.set(bucket, (perFile.get(bucket) ?? 0) + dt);
  total += dt;
});
const show = (m: Map<string, number>, n: number) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, v]) => `${((v / total) * 100).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
console.log(`\nprofile: ${relative(ROOT, join(dir, file))}\n\nself time by function:\n${show(self, Number(values.top))}\n\nself time by file or package:\n${show(perFile, 20)}`);
