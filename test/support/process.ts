/**
 * Runs a flow as a real `weft run` child process (the way it runs in a container), so tests
 * can send it SIGTERM or SIGKILL. Ports are 0; the admin URL is read from the `ready` log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = join(import.meta.dirname, '../..');
const NODE = join(ROOT, 'node_modules/.bin/node');

export interface FlowProcess {
  child: ChildProcess;
  adminUrl: string;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

export async function spawnFlow(file: string, env: Record<string, string> = {}): Promise<FlowProcess> {
  const child = spawn(NODE, [join(ROOT, 'runtime/cli.ts'), 'run', file], {
    env: { ...process.env, PORT: '0', ADMIN_PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const adminUrl = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        if (entry.msg === 'ready') resolve(entry.admin as string);
      } catch {
        // not a log line
      }
    });
    exited.then((code) => reject(new Error(`flow process exited (${code}) before ready: ${stderr}`)));
  });
  return { child, adminUrl, lines, exited };
}
