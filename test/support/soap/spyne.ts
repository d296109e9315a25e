/** Starts the spyne SOAP service (service.py) as a child process on loopback, for interop tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

// Debian's python3-spyne installs for the system interpreter, not for a pyenv or venv one.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export function spyneAvailable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import spyne, lxml'], { stdio: 'ignore' }).status === 0;
}

export interface SpyneService {
  soap11: string;
  soap12: string;
  close(): Promise<void>;
}

export async function startSpyne(): Promise<SpyneService> {
  const child: ChildProcess = spawn(PYTHON, [join(import.meta.dirname, 'service.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`spyne service exited with ${code} before listening`)));
  });
  const ports = JSON.parse(line) as { soap11: number; soap12: number };
  return {
    soap11: `http://127.0.0.1:${ports.soap11}/`,
    soap12: `http://127.0.0.1:${ports.soap12}/`,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin!.end(); // the service exits when its stdin closes
      }),
  };
}
