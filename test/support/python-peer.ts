/**
 * Official-implementation peers in Python (Debian's python3-thrift, python3-grpcio), started
 * per test suite: code generated at test time into a temp folder, a server on 127.0.0.1
 * port 0 that prints its port as its first line, stopped by its PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The IDL that peers/thrift_server.py serves (pricing.Pricing), for the thrift tests. */
export const PRICING_IDL = `namespace py pricing
exception NotFound { 1: string sku, 2: string reason }
struct Quote { 1: required string sku, 2: i32 qty, 3: i64 cents, 4: list<string> tags }
service Pricing {
  Quote quote(1: string sku, 2: i32 qty) throws (1: NotFound notFound),
  Quote echo(1: Quote item),
  void ping(),
  oneway void record(1: string note),
  string slow(1: i32 ms),
  string boom(),
}
`;

/** Debian's interpreter: the Debian modules are installed for it, not for a python3 shim on PATH. */
export const PYTHON = '/usr/bin/python3';
export const PEERS = join(import.meta.dirname, 'peers');

/**
 * `false` when the commands and modules are present; otherwise the reason to skip. Under
 * WEFT_REQUIRE_SERVICES=1 (CI) a missing peer is a failure, so this returns false there and
 * the suite fails loudly when it cannot start its peer.
 */
export function peerSkip(commands: string[][], modules: string[]): false | string {
  if (process.env.WEFT_REQUIRE_SERVICES === '1') return false;
  for (const cmd of commands) {
    if (spawnSync(cmd[0], cmd.slice(1)).status !== 0) return `${cmd[0] === 'test' ? cmd.at(-1) : cmd[0]} is not installed (.ci/run installs it)`;
  }
  for (const m of modules) {
    if (spawnSync(PYTHON, ['-c', `import ${m}`]).status !== 0) return `python module ${m} is not installed for ${PYTHON} (.ci/run installs it)`;
  }
  return false;
}

/** A temp folder for generated code; remove() when the suite ends. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Runs a generator (thrift, protoc) and throws with its stderr when it fails. */
export function generate(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
}

export interface PythonServer {
  port: number;
  /** What the server printed after its port (the test's window on what it received). */
  lines: string[];
  /** Resolves when a line matching `re` has been printed. */
  waitFor(re: RegExp): Promise<string>;
  stop(): Promise<void>;
}

/** Starts `script` with `args`; its first stdout line must be the port it listens on. */
export function startPythonServer(script: string, args: string[]): Promise<PythonServer> {
  const child: ChildProcess = spawn(PYTHON, ['-u', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const watchers: { re: RegExp; resolve(line: string): void }[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let port: number | undefined;
    child.once('exit', (code) => {
      if (port === undefined) reject(new Error(`${script} exited with ${code} before printing its port: ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (port === undefined) {
        port = Number(line);
        return resolve({
          port,
          lines,
          waitFor: (re) => {
            const seen = lines.find((l) => re.test(l));
            return seen !== undefined ? Promise.resolve(seen) : new Promise((r) => watchers.push({ re, resolve: r }));
          },
          async stop() {
            if (child.exitCode === null) process.kill(child.pid!, 'SIGTERM');
            await exited;
          },
        });
      }
      lines.push(line);
      for (const w of watchers.filter((w) => w.re.test(line))) w.resolve(line);
    });
  });
}
