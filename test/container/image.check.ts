/**
 * `npm run test:container`: lints the Dockerfile, builds the real image with buildah (base image
 * made locally by base-image.sh, since no registry is reachable) and smoke-tests containers of
 * it with podman: a mounted flow and a baked one answer, run as non-root on a read-only root
 * filesystem, and stop on SIGTERM with exit code 0. Not part of `npm test` (it takes minutes and
 * root); .ci/run calls it. Skips with the reason when podman is missing, unless
 * WEFT_REQUIRE_SERVICES=1.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../support/process.ts';

const ROOT = join(import.meta.dirname, '../..');
const HERE = import.meta.dirname;
const BASE = 'docker.io/library/node:24-slim';
const IMAGE = 'localhost/weft:test';
const BAKED = 'localhost/weft-store:test';
const env = { ...process.env, CONTAINERS_CONF: join(HERE, 'containers.conf') };
const exec = promisify(execFile);

function missingTools(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (podman/buildah here run rootful)';
  for (const tool of ['podman', 'buildah', 'runc', 'debootstrap']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (.ci/run installs podman buildah runc debootstrap)`;
    }
  }
  return undefined;
}

const missing = missingTools();
if (missing && process.env.WEFT_REQUIRE_SERVICES === '1') throw new Error(`container test required but ${missing}`);
const skip = missing ? `skipped: ${missing}` : false;

async function sh(cmd: string, args: string[], options: { cwd?: string; timeout?: number } = {}): Promise<string> {
  const { stdout } = await exec(cmd, args, { env, cwd: options.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024, timeout: options.timeout ?? 600_000 });
  return stdout;
}

async function build(tag: string, extra: string[] = []): Promise<void> {
  await sh('buildah', [
    'bud', '--isolation', 'chroot', '--format', 'docker', '--pull=never', '--network', 'host',
    // npm reaches the registry through a private CA here; the ARG lives in the build stage only.
    '-v', '/etc/ssl/certs:/etc/ssl/certs:ro', '--build-arg', 'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    ...extra, '-t', tag, '.',
  ]);
}

interface Container {
  name: string;
  url: string;
  admin: string;
}

const started: string[] = [];

async function run(image: string, extra: string[] = []): Promise<Container> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const name = `weft-smoke-${process.pid}-${started.length}`;
  started.push(name);
  await sh('podman', ['run', '-d', '--name', name, '--read-only', '--network', 'host', '-e', `PORT=${port}`, '-e', `ADMIN_PORT=${adminPort}`, '-e', 'HOST=127.0.0.1', ...extra, image]);
  const admin = `http://127.0.0.1:${adminPort}`;
  // Bounded wait for readiness: 300 x 100 ms.
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${admin}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { name, url: `http://127.0.0.1:${port}`, admin };
    const state = (await sh('podman', ['inspect', '--format', '{{.State.Status}}', name])).trim();
    if (state === 'exited') throw new Error(`container exited: ${await sh('podman', ['logs', name])}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`container ${name} not ready: ${await sh('podman', ['logs', name])}`);
}

/** SIGTERM, then the exit code podman records. */
async function terminate(c: Container): Promise<number> {
  await sh('podman', ['kill', '--signal', 'TERM', c.name]);
  const code = Number((await sh('podman', ['wait', c.name])).trim());
  return code;
}

describe('container image', { skip }, () => {
  before(async () => {
    await sh('bash', [join(HERE, 'base-image.sh'), BASE]);
  });
  after(async () => {
    for (const name of started) await sh('podman', ['rm', '-f', name]).catch(() => {});
  });

  it('the Dockerfile passes dockerlinter (hadolint rules + ShellCheck) and dockerfile-utils', async () => {
    // dockerlinter's install script downloads ShellCheck from outside the registries: install it
    // without scripts; it then uses Debian's shellcheck on PATH.
    const prefix = mkdtempSync(join(tmpdir(), 'weft-dockerlinter-'));
    await sh('npm', ['install', '--silent', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', prefix, 'dockerlinter@2.0.0']);
    const linter = await sh(join(prefix, 'node_modules/.bin/dockerlinter'), ['-f', 'Dockerfile', '-e', 'info']);
    assert.doesNotMatch(linter, /\/E[A-Z]\d{4}\/|SC\d{4}/, linter);
    const utils = await sh(join(ROOT, 'node_modules/.bin/dockerfile-utils'), ['lint', 'Dockerfile']);
    assert.equal(utils.trim(), '', utils);
  });

  it('builds from the unmodified Dockerfile, production dependencies only, small', async () => {
    await build(IMAGE);
    const size = Number((await sh('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
    const base = Number((await sh('podman', ['image', 'inspect', '--format', '{{.Size}}', BASE])).trim());
    console.log(`image ${IMAGE}: ${(size / 1e6).toFixed(1)} MB (base ${(base / 1e6).toFixed(1)} MB, Weft and its dependencies ${((size - base) / 1e6).toFixed(1)} MB)`);
    const deps = await sh('podman', ['run', '--rm', '--entrypoint', 'ls', IMAGE, '/app/node_modules']);
    assert.match(deps, /prom-client/);
    for (const dev of ['typescript', 'kubernetes-models', 'autocannon', 'dockerfile-utils']) assert.doesNotMatch(deps, new RegExp(`^${dev}$`, 'm'), `${dev} is a dev dependency`);
    const cfg = JSON.parse(await sh('podman', ['image', 'inspect', IMAGE])) as { Healthcheck?: { Test: string[] }; Config: { User: string; ExposedPorts: Record<string, unknown>; Env: string[] } }[];
    assert.equal(cfg[0].Config.User, 'node');
    assert.deepEqual(Object.keys(cfg[0].Config.ExposedPorts).sort(), ['8080/tcp', '8081/tcp']);
    assert.equal(cfg[0].Healthcheck?.Test[0], 'CMD', 'HEALTHCHECK kept (docker format)');
    assert.ok(!cfg[0].Config.Env.some((e) => e.startsWith('NODE_EXTRA_CA_CERTS')), 'the build-time CA does not reach the image');
    // The image runs the one-file build its build stage made (WEFT_BUNDLE=1), read-only root or
    // not, with the code cache the build left in WEFT_CODE_CACHE.
    const { stderr } = await exec('podman', ['run', '--rm', '--read-only', '-e', 'WEFT_DEBUG_ENTRY=1', IMAGE, 'help'], { env });
    assert.match(stderr, /^weft: running the bundle \(code cache accepted\)$/m, stderr);
  });

  it('a mounted flow answers, runs as non-root on a read-only root, exposes metrics, stops on SIGTERM with 0', async () => {
    const c = await run(IMAGE, ['-v', `${join(ROOT, 'flows/hello.yaml')}:/flow/flow.yaml:ro`]);
    const res = await fetch(`${c.url}/hello/ada`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { greeting: 'Hello, ada!', flow: 'hello' });
    const uid = (await sh('podman', ['exec', c.name, 'id', '-u'])).trim();
    assert.notEqual(uid, '0');
    assert.equal(uid, '1000');
    const ps = await sh('podman', ['top', c.name, 'user', 'args']);
    assert.match(ps, /node\s+node \/app\/bin\/weft\.js run \/flow\/flow\.yaml/);
    // The image's HEALTHCHECK, run the way podman runs it: exit 0 means healthy.
    await sh('podman', ['healthcheck', 'run', c.name]);
    const metrics = await (await fetch(`${c.admin}/metrics`)).text();
    assert.match(metrics, /weft_http_requests_total\{route="\/hello\/:name",method="GET",status="200",flow="hello"\} 1/);
    assert.equal(await terminate(c), 0);
    const logs = await sh('podman', ['logs', c.name]);
    assert.match(logs, /"msg":"stopped"/);
  });

  it('a baked flow (--build-arg FLOW) carries the files it references and answers', async () => {
    await build(BAKED, ['--build-arg', 'FLOW=flows/retail/store.yaml']);
    const c = await run(BAKED);
    const api = (await (await fetch(`${c.admin}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.ok(api.paths['/orders']);
    // The trigger's schema file (order.schema.json, beside the flow) was baked in: it rejects this.
    const res = await fetch(`${c.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"customer":"c1"}' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'VALIDATION');
    assert.equal(await terminate(c), 0);
  });
});
