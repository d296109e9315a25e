/** Starts a real flow from YAML text on 127.0.0.1 port 0 (traffic and admin), for tests. */
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFlow, type RunningFlow } from '../../runtime/engine/lifecycle.ts';
import { FlowLoadError } from '../../runtime/errors.ts';
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

/** The problems of a flow that must not load, as `line:CODE message`, for load-error tests. */
export async function loadProblems(yaml: string, files: Record<string, string> = {}): Promise<string[]> {
  const err = await startTestFlow(yaml, { files }).then(
    async (flow) => {
      await flow.stop();
      throw new Error('the flow loaded');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof FlowLoadError)) throw err;
  return err.problems.map((p) => `${p.line}:${p.code} ${p.message}`);
}

/** Asserts that one of `problems` is at `line` and matches `re`. */
export function assertProblem(problems: readonly string[], line: number, re: RegExp): void {
  assert.ok(problems.some((p) => p.startsWith(`${line}:`) && re.test(p)), `line ${line} ${re} in\n${problems.join('\n')}`);
}
