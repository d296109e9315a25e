/** Runs the real CLI as a child process (the way users and containers run it). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const WEFT_BIN = join(import.meta.dirname, '../../bin/weft.js');

export interface WeftProcess {
  child: ChildProcess;
  /** Parsed JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the `ready` log line (url, admin, readyMs). */
  ready: Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
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
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      onFail(new Error(`weft exited with ${code} before ready: ${err}`));
      resolve(code);
    }),
  );
  return { child, logs, stderr: () => err, ready, exited };
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
