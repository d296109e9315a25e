/** Starts a real flow from YAML text on 127.0.0.1 port 0 (traffic and admin), for tests. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { silentLogger, type Logger } from '../../runtime/log.ts';

export interface TestFlow extends RunningFlow {
  url: string;
  adminUrl: string;
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/** Writes `files` (name -> text) beside the flow file, then starts the flow. */
export async function startTestFlow(
  yaml: string,
  options: { files?: Record<string, string>; env?: Record<string, string | undefined>; log?: Logger; drainTimeoutMs?: number } = {},
): Promise<TestFlow> {
  const file = writeFlow(yaml, options.files);
  const running = await startFlow(file, {
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    log: options.log ?? silentLogger(),
    env: { ...process.env, ...options.env },
    drainTimeoutMs: options.drainTimeoutMs,
  });
  const url = running.url!;
  return Object.assign(running, {
    url,
    adminUrl: running.adminUrl!,
    fetch: (path: string, init?: RequestInit) => fetch(url + path, init),
  }) as TestFlow;
}

export function writeFlow(yaml: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'weft-test-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const file = join(dir, 'flow.yaml');
  writeFileSync(file, yaml);
  return file;
}
