/**
 * Runs the real CLI as a child process (the way users and containers run it), so tests can
 * read its log lines and send it SIGTERM or SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const WEFT_BIN = join(import.meta.dirname, '../../bin/weft.js');

export interface WeftProcess {
  child: ChildProcess;
  /** Parsed JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the `ready` log line (url, admin, readyMs); rejects if the process exits first. */
  ready: Promise<Record<string, unknown>>;
  /** Resolves with the exit code, or the signal name when a signal ended it. */
  exited: Promise<number | string>;
}

export function spawnWeft(args: string[], env: Record<string, string> = {}): WeftProcess {
  const child = spawn(process.execPath, [WEFT_BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let onReady: (line: Record<string, unknown>) => void = () => {};
  let onFail: (e: Error) => void = () => {};
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  ready.catch(() => {});
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      logs.push(parsed);
      if (parsed.msg === 'ready') onReady(parsed);
    } catch {
      logs.push({ text: line });
    }
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      onFail(new Error(`weft exited with ${code ?? signal} before ready: ${err}`));
      resolve(code ?? signal ?? -1);
    }),
  );
  return { child, logs, stderr: () => err, ready, exited };
}

export interface FlowProcess {
  child: ChildProcess;
  adminUrl: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  exited: Promise<number | string>;
}

/** `weft run FILE` on port 0 (traffic and admin); resolves once it logged `ready`. */
export async function spawnFlow(file: string, env: Record<string, string> = {}): Promise<FlowProcess> {
  const p = spawnWeft(['run', file], { PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env });
  const ready = await p.ready;
  return { child: p.child, adminUrl: ready.admin as string, lines: p.logs, exited: p.exited };
}

/** Runs the CLI to completion: exit code and output, whatever the code. */
export async function runWeft(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, [WEFT_BIN, ...args], (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** A loopback port that was free a moment ago (for processes that take their port from env). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as import('node:net').AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
