/**
 * The one-file build (bin/build.ts) behaves as the sources do: flow errors with file:line:col, a
 * flow that calls an upstream answers (undici carried inside the bundle, not read from
 * node_modules), SIGTERM drains and exits 0. Built into tmp/ of the checkout, so that libraries
 * the bundle leaves outside resolve from node_modules as they do from dist/.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFlow } from '../support/flow.ts';
import { freePort, runWeft, WEFT_BIN } from '../support/process.ts';
import { json, startUpstream, type Upstream } from '../support/upstream.ts';

const ROOT = join(import.meta.dirname, '../..');
mkdirSync(join(ROOT, 'tmp'), { recursive: true });
const outdir = mkdtempSync(join(ROOT, 'tmp/bundle-test-'));
const bundle = join(outdir, 'weft.cjs');
const cacheDir = join(outdir, 'code-cache');
mkdirSync(cacheDir);

/**
 * `weft ARGS` through the bundle in outdir; after `run` is ready, ASK is fetched and the answer
 * printed with whether undici came from node_modules, then METRICS (the admin /metrics).
 */
const DRIVER = `
const { loadBundle } = await import(${JSON.stringify(join(ROOT, 'bin/entry.ts'))});
const { main, codeCache } = loadBundle(process.argv[1], process.env.CODE_CACHE_DIR);
if (process.env.SAY_CODE_CACHE) process.stderr.write('code cache ' + codeCache + '\\n');
await main(process.argv.slice(2));
if (process.env.ASK) {
  const res = await fetch(process.env.ASK);
  const { createRequire } = await import('node:module');
  const fromNodeModules = Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('/node_modules/undici/'));
  const metrics = await (await fetch(process.env.METRICS)).text();
  process.stderr.write(JSON.stringify({ status: res.status, body: await res.text(), fromNodeModules, metrics }) + '\\n');
}`;

/** The metric names of a Prometheus text page. */
const metricNames = (text: string): string[] => [...new Set(text.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/[ {]/)[0]))].sort();

function runBundle(args: string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--input-type=module', '-e', DRIVER, bundle, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

const output = (child: ReturnType<typeof spawn>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });

describe('the one-file build', () => {
  let upstream: Upstream;
  before(async () => {
    execFileSync(process.execPath, [join(ROOT, 'bin/build.ts'), '--outdir', outdir], { cwd: ROOT });
    upstream = await startUpstream((req, res) => json(res, 200, { id: req.url.split('/').pop() }));
  });
  after(async () => {
    await upstream.close();
    rmSync(outdir, { recursive: true, force: true });
  });

  it('reports flow problems as file:line:col CODE message, exit 1', async () => {
    const file = writeFlow('weft: 1\nname: bad\ntrigger:\n  http: { path: /x, mehtod: GET }\nsteps:\n  - transfrom: body\n');
    const r = await output(runBundle(['validate', file]));
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^${file}:4:21 FLOW_SCHEMA unknown key 'mehtod'`));
    assert.match(lines[1], new RegExp(`^${file}:6:5 FLOW_SCHEMA unknown step`));
  });

  it('serves a flow that calls an upstream with the carried undici, and drains on SIGTERM', async () => {
    const file = writeFlow(`weft: 1
name: passthrough
trigger:
  http: { method: GET, path: /items/:id }
endpoints:
  backend:
    http: { url: "${upstream.url}" }
steps:
  - call: backend
    path: /items/\${params.id}
`);
    const [port, adminPort] = [await freePort(), await freePort()];
    const child = runBundle(['run', file, '--port', String(port), '--admin-port', String(adminPort), '--host', '127.0.0.1'], {
      LOG_LEVEL: 'warn',
      ASK: `http://127.0.0.1:${port}/items/7`,
      METRICS: `http://127.0.0.1:${adminPort}/metrics`,
    });
    const done = output(child);
    let answer: { status: number; body: string; fromNodeModules: boolean; metrics?: string } | undefined;
    child.stderr!.on('data', (d: Buffer) => {
      const line = d.toString().split('\n').find((l) => l.startsWith('{"status"'));
      if (line) {
        answer = JSON.parse(line);
        child.kill('SIGTERM');
      }
    });
    const r = await done;
    assert.ok(answer, r.stderr);
    // The bundle takes only some of prom-client's modules (bin/build.ts): the same metrics, default ones included.
    const names = metricNames(answer.metrics ?? '');
    for (const name of ['weft_http_requests_total', 'weft_process_cpu_seconds_total', 'weft_nodejs_eventloop_lag_seconds']) assert.ok(names.includes(name), names.join(' '));
    delete answer.metrics;
    assert.deepEqual(answer, { status: 200, body: '{"id":"7"}', fromNodeModules: false });
    assert.equal(r.code, 0, r.stderr);
  });

  it('keeps a V8 code cache of the running bundle, used by the next start, refused for a rebuilt one', async () => {
    const file = writeFlow(`weft: 1\nname: idle\ntrigger:\n  http: { method: GET, path: /x }\nsteps:\n  - respond: { status: 204 }\n`);
    const start = async (): Promise<string> => {
      const port = await freePort();
      const child = runBundle(['run', file, '--port', String(port), '--admin-port', '0', '--host', '127.0.0.1'], { LOG_LEVEL: 'warn', CODE_CACHE_DIR: cacheDir, SAY_CODE_CACHE: '1' });
      const done = output(child);
      // The cache is written CODE_CACHE_DELAY_MS after the start; a little later the process may stop.
      await new Promise((r) => setTimeout(r, 1500));
      child.kill('SIGTERM');
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      return /code cache (\w+)/.exec(r.stderr)?.[1] ?? r.stderr;
    };
    // `validate` ends at once: its cache is written at exit, used, then replaced by a running flow's.
    const { code, stderr } = await output(runBundle(['validate', file], { CODE_CACHE_DIR: cacheDir, SAY_CODE_CACHE: '1' }));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /code cache none/);
    const cacheFile = (await import('node:fs')).readdirSync(cacheDir).find((f) => f.endsWith('.v8'));
    const head = () => readFileSync(join(cacheDir, cacheFile ?? ''), 'latin1').split('\n', 1)[0];
    assert.match(head(), / partial [0-9a-f]+$/);
    assert.equal(await start(), 'accepted');
    assert.match(head(), / full [0-9a-f]+$/);
    assert.equal(await start(), 'accepted');
    // Same length, other code: V8 alone would take the old cache; its header (size, mtime) must not match.
    const { utimesSync } = await import('node:fs');
    const later = new Date(Date.now() + 5000);
    utimesSync(bundle, later, later);
    assert.equal(await start(), 'none');
  });

  it('refuses a damaged code cache (same length, other bytes) and starts without it', async () => {
    const file = writeFlow(`weft: 1\nname: damaged\ntrigger:\n  http: { method: GET, path: /x }\nsteps:\n  - respond: { status: 204 }\n`);
    const dir = mkdtempSync(join(outdir, 'damaged-cache-'));
    const validate = () => output(runBundle(['validate', file], { CODE_CACHE_DIR: dir, SAY_CODE_CACHE: '1' }));
    assert.equal((await validate()).code, 0);
    const { readdirSync, writeFileSync } = await import('node:fs');
    const cacheFile = join(dir, readdirSync(dir).find((f) => f.endsWith('.v8')) ?? '');
    const data = readFileSync(cacheFile);
    // V8 checks only lengths and versions: these bytes, handed to it, crash the process (SIGSEGV).
    for (let i = data.indexOf(0x0a) + 200; i < data.length; i += 997) data[i] ^= 0x5a;
    writeFileSync(cacheFile, data);
    const r = await validate();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /code cache none/);
    assert.match(r.stdout, /ok/);
    writeFileSync(cacheFile, 'weft garbage');
    assert.match((await validate()).stderr, /code cache none/);
    assert.match((await validate()).stderr, /code cache accepted/);
  });

  it('bin/weft.js says which code it runs; WEFT_BUNDLE=0 means the sources', async () => {
    const { execFile } = await import('node:child_process');
    const stderr = await new Promise<string>((resolve) =>
      execFile(process.execPath, [WEFT_BIN, 'validate', join(ROOT, 'flows/hello.yaml')], { env: { ...process.env, WEFT_BUNDLE: '0', WEFT_DEBUG_ENTRY: '1' } }, (_e, _o, err) => resolve(err)),
    );
    assert.match(stderr, /^weft: running the sources \(WEFT_BUNDLE=0\)/);
    assert.equal((await runWeft('validate', join(ROOT, 'flows/hello.yaml'))).code, 0);
  });
});
