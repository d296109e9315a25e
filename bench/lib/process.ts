/**
 * Child processes for the benchmark: loopback ports, CPU pinning with taskset, readiness by a
 * real request, resident memory of a process tree, and a clean stop. Every loop is bounded.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** True when `cmd` is on the PATH. */
export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * The CPU sets for the target and for the load generator + backend: one core each on a 2-core
 * machine; no pinning where there is one core or no taskset.
 */
export interface Pinning {
  target?: string;
  load?: string;
}

export function defaultPinning(enabled: boolean): Pinning {
  const cores = availableParallelism();
  if (!enabled || cores < 2 || !hasCommand('taskset')) return {};
  return { target: '0', load: `1-${cores - 1}` };
}

/** The argv that runs `cmd args` on `cpus` (taskset execs, so the pid is the command's). */
export function pinned(cpus: string | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpus === undefined ? [cmd, args] : ['taskset', ['-c', cpus, cmd, ...args]];
}

export interface Proc {
  child: ChildProcess;
  /** Last lines of stderr, for a failure message. */
  stderr(): string;
}

export function start(cpus: string | undefined, cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  const [file, argv] = pinned(cpus, cmd, args);
  const child = spawn(file, argv, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', process.env.BENCH_DEBUG ? 'inherit' : 'ignore', 'pipe'] });
  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    tail = (tail + d).slice(-4000);
  });
  child.on('error', (e) => {
    tail += `\n${e.message}`;
  });
  return { child, stderr: () => tail };
}

/** Stops a child with SIGTERM (SIGKILL after 5 s) and waits for it to exit. */
export async function stop(proc: Proc): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export interface Probe {
  method: string;
  path: string;
  body?: string | Uint8Array;
  contentType?: string;
}

/**
 * Sends `probe` until it answers 200 (polling every 2 ms, at most `limitMs`); resolves with the
 * answer's body. Fails early when the process exits.
 */
export async function waitForAnswer(proc: Proc, url: string, probe: Probe, limitMs = 60_000): Promise<string> {
  const began = performance.now();
  let last = '';
  while (performance.now() - began < limitMs) {
    if (proc.child.exitCode !== null) throw new Error(`exited with ${proc.child.exitCode} before answering: ${proc.stderr()}`);
    try {
      const res = await fetch(url + probe.path, {
        method: probe.method,
        body: probe.body,
        headers: probe.contentType ? { 'content-type': probe.contentType } : {},
        // A process that accepts but never answers must not hang the probe.
        signal: AbortSignal.timeout(Math.max(1, Math.min(5000, limitMs - (performance.now() - began)))),
      });
      const text = await res.text();
      if (res.status === 200) return text;
      last = `${res.status} ${text.slice(0, 300)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await sleep(2);
  }
  throw new Error(`no 200 answer from ${url}${probe.path} in ${limitMs} ms (last: ${last}) ${proc.stderr()}`);
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  const dir = `/proc/${pid}/task`;
  if (!existsSync(dir)) return out;
  for (const t of readdirSync(dir)) {
    try {
      const kids = readFileSync(`${dir}/${t}/children`, 'utf8').trim();
      if (kids) out.push(...kids.split(/\s+/).map(Number));
    } catch {
      // the task ended meanwhile
    }
  }
  return out;
}

/** Sums `read(pid)` over `pid` and its descendants (nginx: master + worker). */
function overTree(pid: number, read: (pid: number) => number): number {
  let total = 0;
  const todo = [pid];
  for (let i = 0; i < todo.length && i < 64; i++) {
    try {
      total += read(todo[i]);
    } catch {
      continue; // the process ended meanwhile
    }
    todo.push(...childrenOf(todo[i]));
  }
  return total;
}

/** Resident memory in MB of `pid` and its descendants. */
export function rssMb(pid: number): number {
  return overTree(pid, (p) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)) / 1024;
}

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/**
 * CPU time (user + system) in ms that `pid` and its descendants have used. Divided by the
 * requests served it gives CPU per request: unlike req/s, it barely moves when other jobs
 * compete for the core, so it is the figure to compare before and after a change.
 */
export function cpuMs(pid: number): number {
  return overTree(pid, (p) => {
    const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  });
}
