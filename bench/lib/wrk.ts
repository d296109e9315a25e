/**
 * The load generator: wrk in its own process (pinned away from the target), one bounded slice
 * per call, its text report parsed into req/s and latency percentiles.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '../scenarios.ts';
import { pinned } from './process.ts';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** Non-2xx answers plus socket errors: a slice with errors is not a fair figure. */
  errors: number;
  /** CPU time of the target per request in microseconds (set by the caller that knows the pid). */
  cpuUsPerReq?: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function durationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) throw new Error(`wrk printed a latency it cannot read: ${text}`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

/** Parses `wrk --latency` output. */
export function parseWrk(out: string): LoadResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s*50%\s+(\S+)/m.exec(out);
  const p99 = /^\s*99%\s+(\S+)/m.exec(out);
  const requests = /(\d+) requests in/.exec(out);
  if (!rps || !p50 || !p99 || !requests) throw new Error(`wrk output not understood:\n${out}`);
  let errors = 0;
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
  if (non2xx) errors += Number(non2xx[1]);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  if (socket) errors += socket.slice(1).reduce((a, b) => a + Number(b), 0);
  return { rps: Number(rps[1]), p50Ms: durationMs(p50[1]), p99Ms: durationMs(p99[1]), requests: Number(requests[1]), errors };
}

/** A Lua string literal of the body; binary bodies (S5's ProtoBuf) byte by byte as \\ddd escapes. */
function luaString(body: string | Uint8Array): string {
  if (typeof body === 'string') return JSON.stringify(body);
  return `"${Array.from(body, (b) => `\\${String(b).padStart(3, '0')}`).join('')}"`;
}

/** The Lua script that makes wrk send the scenario's method, body and content type. */
function script(s: Scenario): string | undefined {
  if (s.method === 'GET') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-wrk-'));
  const file = join(dir, `${s.id}.lua`);
  const lua = [
    `wrk.method = ${JSON.stringify(s.method)}`,
    `wrk.body = ${luaString(s.body ?? '')}`,
    `wrk.headers["Content-Type"] = ${JSON.stringify(s.contentType ?? 'application/octet-stream')}`,
  ];
  writeFileSync(file, lua.join('\n') + '\n');
  return file;
}

const scripts = new Map<string, string | undefined>();

export interface LoadOptions {
  url: string;
  scenario: Scenario;
  seconds: number;
  connections: number;
  cpus?: string;
}

export function runLoad(o: LoadOptions): Promise<LoadResult> {
  if (!scripts.has(o.scenario.id)) scripts.set(o.scenario.id, script(o.scenario));
  const lua = scripts.get(o.scenario.id);
  const args = ['-t1', `-c${o.connections}`, `-d${o.seconds}s`, '--timeout', '5s', '--latency', ...(lua ? ['-s', lua] : []), o.url + o.scenario.path];
  const [cmd, argv] = pinned(o.cpus, 'wrk', args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      try {
        resolve(parseWrk(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
