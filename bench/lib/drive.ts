/**
 * A fixed number of requests from this process, for the probes that count what a target does
 * per request (bench/instructions.ts, bench/gc.ts): unlike wrk's timed load, the count is exact.
 */
import { Pool } from 'undici';
import { startBackend } from './nginx.ts';
import { freePort, stop, waitForAnswer, type Probe } from './process.ts';
import { LOAD_SCENARIOS, SCENARIOS, type ScenarioId } from '../scenarios.ts';
import { targetNamed, type StartOptions } from '../targets.ts';

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

/** What a counting probe was asked for on its command line. */
export interface CountedRun {
  targets: string;
  scenario: string;
  warmup: string;
  requests: string;
  connections: string;
}

/** How a probe watches one target: how to start it, and what to do around the measured requests. */
export interface Counter {
  start(name: string): Pick<StartOptions, 'launcher' | 'nodeArgs'>;
  /** How long the target may take to answer at all (valgrind is slow). */
  readyMs: number;
  /** After the warm-up requests, before the measured ones. */
  begin(pid: number): void | Promise<void>;
  /** After the measured requests; prints the target's figures. */
  end(name: string, pid: number, count: { scenario: ScenarioId; requests: number; warmup: number; connections: number }): void | Promise<void>;
}

/**
 * Starts the nginx backend, then each Node target of `run` in turn: `warmup` requests, then
 * `counter.begin`, `requests` more, `counter.end`, and the target is stopped.
 */
export async function countPerTarget(run: CountedRun, counter: Counter): Promise<void> {
  const scenario = run.scenario as ScenarioId;
  if (!LOAD_SCENARIOS.includes(scenario)) throw new Error(`--scenario must be one of ${LOAD_SCENARIOS.join(', ')}`);
  const count = { scenario, warmup: Number(run.warmup), requests: Number(run.requests), connections: Number(run.connections) };
  const probe = SCENARIOS[scenario];
  const backendPort = await freePort();
  const backend = startBackend(undefined, backendPort);
  try {
    await waitForAnswer(backend, `http://127.0.0.1:${backendPort}`, { method: 'GET', path: '/items/42' }, 10_000);
    for (const name of run.targets.split(',')) {
      const target = targetNamed(name);
      if (!target || target.name === 'nginx' || target.name === 'nodered' || !target.scenarios.includes(scenario)) throw new Error(`${name} is not a Node target of ${scenario}`);
      const port = await freePort();
      const proc = target.start(scenario, { port, backendPort, ...counter.start(name) });
      const pool = new Pool(`http://127.0.0.1:${port}`, { connections: count.connections });
      try {
        await waitForAnswer(proc, `http://127.0.0.1:${port}`, probe, counter.readyMs);
        await drive(pool, probe, count.warmup, count.connections);
        await counter.begin(proc.child.pid!);
        await drive(pool, probe, count.requests, count.connections);
        await counter.end(name, proc.child.pid!, count);
      } finally {
        await pool.close();
        await stop(proc);
      }
    }
  } finally {
    await stop(backend);
  }
}
