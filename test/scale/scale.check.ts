/**
 * `npm run test:scale`: three replicas of one flow as separate processes behind haproxy on
 * loopback, health-checked on /readyz, under a bounded load (autocannon, fixed rate):
 *   1. rolling restart, one replica at a time with SIGTERM: 0 failed requests;
 *   2. SIGKILL of one replica, with `retry-on all-retryable-errors` + `option redispatch`:
 *      0 failed requests.
 * Also reports how fast /readyz answers on a replica while the load runs. Figures are printed
 * (and written to WEFT_SCALE_REPORT when set); nothing here asserts on time.
 * Skips with the reason when haproxy is missing, unless WEFT_REQUIRE_SERVICES=1.
 */
import autocannon from 'autocannon';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { freePort, spawnWeft, type WeftProcess } from '../support/process.ts';

const FLOW = join(import.meta.dirname, '../../flows/hello.yaml');
const RATE = 500; // requests per second, the whole load
const CONNECTIONS = 20;

function haproxyMissing(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v haproxy'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'haproxy is not installed (.ci/run installs it)';
  }
}
const missing = haproxyMissing();
if (missing && process.env.WEFT_REQUIRE_SERVICES === '1') throw new Error(`scale test required but ${missing}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Replica {
  port: number;
  admin: number;
  proc: WeftProcess;
}

async function startReplica(port: number, admin: number): Promise<Replica> {
  const proc = spawnWeft(['run', FLOW], { PORT: String(port), ADMIN_PORT: String(admin), HOST: '127.0.0.1', LOG_LEVEL: 'warn' });
  // LOG_LEVEL=warn hides the ready line: wait on /readyz instead (bounded: 300 x 50 ms).
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${admin}/readyz`).then((r) => r.ok, () => false)) return { port, admin, proc };
    if (proc.child.exitCode !== null) throw new Error(`replica exited: ${proc.stderr()}`);
    await sleep(50);
  }
  throw new Error(`replica on ${port} not ready`);
}

function haproxyConfig(front: number, stats: number, replicas: Replica[]): string {
  return `global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 10s
  timeout server 10s
  # A request that met a refused connection, a reset or an empty answer is tried again, on
  # another replica: what makes SIGKILL of one replica invisible to callers.
  retries 3
  retry-on all-retryable-errors
  option redispatch 1
frontend traffic
  bind 127.0.0.1:${front}
  default_backend flow
frontend stats
  bind 127.0.0.1:${stats}
  stats enable
  stats uri /stats
backend flow
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 200ms fastinter 100ms fall 1 rise 2
${replicas.map((r, i) => `  server r${i} 127.0.0.1:${r.port} check port ${r.admin}`).join('\n')}
`;
}

interface LoadResult {
  requests: number;
  ok: number;
  failed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p99ms: number;
}

function load(url: string, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const run = autocannon({ url, connections: CONNECTIONS, duration: seconds, overallRate: RATE, timeout: 5 }, (err, r) => {
      if (err) return reject(err);
      resolve({
        requests: r.requests.total,
        ok: r['2xx'],
        failed: r.non2xx + r.errors + r.timeouts,
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        p99ms: r.latency.p99,
      });
    });
    run.on('error', reject);
  });
}

/** Retries and redispatches haproxy counted for the backend (its CSV stats). */
async function haproxyCounters(stats: number): Promise<{ retries: number; redispatches: number }> {
  const csv = await (await fetch(`http://127.0.0.1:${stats}/stats;csv`)).text();
  const lines = csv.split('\n');
  const head = lines[0].replace(/^# /, '').split(',');
  const row = lines.find((l) => l.startsWith('flow,BACKEND,'))!.split(',');
  return { retries: Number(row[head.indexOf('wretr')]), redispatches: Number(row[head.indexOf('wredis')]) };
}

/** Polls a replica's /readyz through the load: every answer's status and latency. */
function probeWhile(admin: number, until: Promise<unknown>): Promise<{ count: number; failed: number; maxMs: number }> {
  return (async () => {
    let done = false;
    void until.finally(() => (done = true));
    let count = 0;
    let failed = 0;
    let maxMs = 0;
    for (let i = 0; i < 1000 && !done; i++) {
      const t = performance.now();
      const ok = await fetch(`http://127.0.0.1:${admin}/readyz`).then((r) => r.ok, () => false);
      maxMs = Math.max(maxMs, performance.now() - t);
      count++;
      if (!ok) failed++;
      await sleep(100);
    }
    return { count, failed, maxMs: Math.round(maxMs * 10) / 10 };
  })();
}

describe('three replicas behind haproxy', { skip: missing ? `skipped: ${missing}` : false }, () => {
  const replicas: Replica[] = [];
  let haproxy: ChildProcess;
  let front = 0;
  let stats = 0;
  const report: Record<string, unknown> = { rate: RATE, connections: CONNECTIONS };

  before(async () => {
    for (let i = 0; i < 3; i++) replicas.push(await startReplica(await freePort(), await freePort()));
    front = await freePort();
    stats = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'weft-haproxy-'));
    writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(front, stats, replicas));
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    for (let i = 0; i < 200; i++) {
      if (await fetch(`http://127.0.0.1:${front}/hello/x`).then((r) => r.ok, () => false)) break;
      await sleep(50);
    }
    await sleep(1000); // every server seen up by its health check (rise 2 x 200 ms)
  });

  after(async () => {
    if (haproxy && haproxy.exitCode === null) haproxy.kill('SIGTERM');
    for (const r of replicas) if (r.proc.child.exitCode === null) r.proc.child.kill('SIGKILL');
    console.log(`scale report: ${JSON.stringify(report)}`);
    if (process.env.WEFT_SCALE_REPORT) writeFileSync(process.env.WEFT_SCALE_REPORT, `${JSON.stringify(report, null, 2)}\n`);
  });

  it('rolling restart with SIGTERM, one replica at a time, under load: 0 failed requests', async () => {
    const before = await haproxyCounters(stats);
    const running = load(`http://127.0.0.1:${front}/hello/ada`, 20);
    await sleep(2000);
    for (let i = 0; i < replicas.length; i++) {
      const old = replicas[i];
      old.proc.child.kill('SIGTERM');
      const code = await old.proc.exited;
      assert.equal(code, 0, `replica ${i} exits 0 after draining`);
      replicas[i] = await startReplica(old.port, old.admin);
      await sleep(1500); // haproxy sees it up again (rise 2) before the next one goes
    }
    const result = await running;
    const counters = await haproxyCounters(stats);
    report.rollingRestart = { ...result, retries: counters.retries - before.retries, redispatches: counters.redispatches - before.redispatches };
    assert.ok(result.requests > RATE * 10, `load ran: ${result.requests} requests`);
    assert.equal(result.failed, 0, JSON.stringify(result));
  });

  it('SIGKILL of one replica under load, with retry-on all-retryable-errors + redispatch: 0 failed requests', async () => {
    const before = await haproxyCounters(stats);
    const running = load(`http://127.0.0.1:${front}/hello/ada`, 10);
    const probes = probeWhile(replicas[0].admin, running);
    await sleep(3000);
    const victim = replicas[1];
    victim.proc.child.kill('SIGKILL');
    assert.equal(await victim.proc.exited, 'SIGKILL', 'killed, not exited');
    const result = await running;
    const counters = await haproxyCounters(stats);
    const probe = await probes;
    report.sigkill = { ...result, retries: counters.retries - before.retries, redispatches: counters.redispatches - before.redispatches, readyzOfSurvivorDuringLoad: probe };
    assert.equal(probe.failed, 0, 'a surviving replica stayed ready through the load');
    assert.ok(result.requests > RATE * 5, `load ran: ${result.requests} requests`);
    assert.equal(result.failed, 0, JSON.stringify(result));
    replicas[1] = await startReplica(victim.port, victim.admin);
  });
});
