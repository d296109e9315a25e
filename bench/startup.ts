/**
 * Startup and memory of Weft beside the bare hono server, in one run, as ratios:
 *   time from exec to the first successful response, RSS idle, RSS after N requests.
 * Usage: npm run bench:startup [-- --runs 5 --requests 10000]
 * Both targets run with the same Node and a warmed compile cache (one discarded run each),
 * alternating, so machine noise hits both alike. Traffic stays on 127.0.0.1 and is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const ROOT = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, requests: { type: 'string', default: '10000' } } });
const RUNS = Number(values.runs);
const REQUESTS = Number(values.requests);
const CACHE = join(ROOT, 'bench/results/compile-cache');

interface Target {
  name: string;
  args: (port: number, adminPort: number) => string[];
}

const TARGETS: Target[] = [
  { name: 'weft', args: (p, a) => ['bin/weft.js', 'run', 'flows/hello.yaml', '--port', String(p), '--admin-port', String(a), '--host', '127.0.0.1'] },
  { name: 'hono', args: () => ['bench/baselines/hono-hello.ts'] },
];

interface Sample {
  startupMs: number;
  rssIdleMb: number;
  rssLoadedMb: number;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(target: Target): Promise<Sample> {
  const port = await freePort();
  const adminPort = await freePort();
  const began = performance.now();
  const child: ChildProcess = spawn(process.execPath, target.args(port, adminPort), {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', NODE_COMPILE_CACHE: CACHE },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  let startupMs = NaN;
  for (let i = 0; i < 2000; i++) {
    try {
      const res = await fetch(`${url}/hello/ada`);
      if (res.status === 200) {
        await res.arrayBuffer();
        startupMs = performance.now() - began;
        break;
      }
    } catch {
      await sleep(2);
    }
  }
  if (Number.isNaN(startupMs)) throw new Error(`${target.name} did not answer`);
  await sleep(500);
  const rssIdleMb = rssMb(child.pid!);
  const pool = new Pool(url, { connections: 10 });
  let sent = 0;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (sent < REQUESTS) {
        sent++;
        const res = await pool.request({ path: '/hello/ada', method: 'GET' });
        await res.body.arrayBuffer();
      }
    }),
  );
  await pool.close();
  const rssLoadedMb = rssMb(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { startupMs, rssIdleMb, rssLoadedMb };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

mkdirSync(CACHE, { recursive: true });
for (const t of TARGETS) await measure(t); // warm the compile cache and the page cache
const samples = new Map<string, Sample[]>(TARGETS.map((t) => [t.name, []]));
for (let i = 0; i < RUNS; i++) for (const t of TARGETS) samples.get(t.name)!.push(await measure(t));

const rows = TARGETS.map((t) => {
  const s = samples.get(t.name)!;
  return {
    target: t.name,
    startupMs: median(s.map((x) => x.startupMs)),
    rssIdleMb: median(s.map((x) => x.rssIdleMb)),
    rssLoadedMb: median(s.map((x) => x.rssLoadedMb)),
    startupRange: [Math.min(...s.map((x) => x.startupMs)), Math.max(...s.map((x) => x.startupMs))],
  };
});
const [weft, hono] = rows;
const ratios = {
  startup: weft.startupMs / hono.startupMs,
  rssIdle: weft.rssIdleMb / hono.rssIdleMb,
  rssLoaded: weft.rssLoadedMb / hono.rssLoadedMb,
};
console.log(`runs ${RUNS}, ${REQUESTS} requests each, medians (node ${process.version})`);
console.log('target  startup ms  (min-max)       RSS idle MB  RSS after load MB');
for (const r of rows) {
  console.log(
    `${r.target.padEnd(7)} ${r.startupMs.toFixed(0).padStart(10)}  (${r.startupRange.map((x) => x.toFixed(0)).join('-').padEnd(12)}) ${r.rssIdleMb.toFixed(1).padStart(11)}  ${r.rssLoadedMb.toFixed(1).padStart(17)}`,
  );
}
console.log(`weft/hono: startup ${ratios.startup.toFixed(2)}x, RSS idle ${ratios.rssIdle.toFixed(2)}x, RSS after load ${ratios.rssLoaded.toFixed(2)}x`);
mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(join(ROOT, 'bench/results/startup.json'), JSON.stringify({ runs: RUNS, requests: REQUESTS, node: process.version, rows, ratios }, null, 2));
