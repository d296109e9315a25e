/** The CLI as users run it: real processes, real signals, real sockets. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { writeFlow } from '../support/flow.ts';
import { runWeft, spawnWeft, WEFT_BIN } from '../support/process.ts';
import { jsonOf, json, startUpstream } from '../support/upstream.ts';

const FLOWS = join(import.meta.dirname, '../../flows');

const weft = runWeft;

const BAD = `weft: 1
name: bad
trigger:
  http: { path: /x, mehtod: GET }
steps:
  - transfrom: body
`;

describe('weft validate', () => {
  it('says ok and exits 0 for the example flows', async () => {
    const r = await weft('validate', join(FLOWS, 'hello.yaml'), join(FLOWS, 'customer-360.yaml'));
    assert.equal(r.code, 0);
    assert.match(r.stdout, /hello\.yaml: ok/);
  });

  it('prints every problem as file:line:col CODE message and exits 1', async () => {
    const file = writeFlow(BAD);
    const r = await weft('validate', file, join(FLOWS, 'hello.yaml'));
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.ok(
      lines[0].startsWith(`${file}:4:21 FLOW_SCHEMA unknown key 'mehtod' in 'trigger.http'; did you mean 'method'? (expected one of: method, path, `),
      lines[0],
    );
    assert.match(lines[1], new RegExp(`^${file}:6:5 FLOW_SCHEMA unknown step`));
    assert.match(lines[2], /hello\.yaml: ok$/);
  });

  it('exits 2 on usage errors', async () => {
    assert.equal((await weft('validate')).code, 2);
    assert.equal((await weft('frobnicate')).code, 2);
  });
});

describe('weft run', () => {
  const started: ReturnType<typeof spawnWeft>[] = [];
  after(() => {
    for (const p of started) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  });

  it('refuses a bad flow: problems on stderr, exit 1, never listens', async () => {
    const p = spawnWeft(['run', writeFlow(BAD), '--port', '0', '--admin-port', '0']);
    started.push(p);
    assert.equal(await p.exited, 1);
    assert.match(p.stderr(), /FLOW_SCHEMA unknown key 'mehtod'/);
    assert.equal(p.logs.filter((l) => l.msg === 'ready').length, 0);
  });

  it('serves hello.yaml, logs one ready line, and stops on SIGTERM with exit 0', async () => {
    const p = spawnWeft(['run', join(FLOWS, 'hello.yaml'), '--port', '0', '--admin-port', '0', '--host', '127.0.0.1']);
    started.push(p);
    const ready = await p.ready;
    assert.equal(ready.flow, 'hello');
    assert.equal(ready.route, 'GET /hello/:name');
    assert.equal(typeof ready.readyMs, 'number');
    assert.deepEqual(await jsonOf(await fetch(`${ready.url}/hello/ada`)), { greeting: 'Hello, ada!', flow: 'hello' });
    assert.equal((await fetch(`${ready.admin}/readyz`)).status, 200);
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0);
  });

  it('drains on SIGTERM: the in-flight request finishes, new connections are refused', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    let arrived: () => void = () => {};
    const inUpstream = new Promise<void>((r) => (arrived = r));
    const backend = await startUpstream(async (_req, res) => {
      arrived();
      await gate;
      json(res, 200, { slow: 'done' });
    });
    const flow = writeFlow(`weft: 1
name: drain
trigger:
  http: { path: /slow }
endpoints:
  backend:
    http: { url: "${backend.url}" }
steps:
  - call: backend
    path: /work
`);
    const p = spawnWeft(['run', flow, '--port', '0', '--admin-port', '0', '--host', '127.0.0.1']);
    started.push(p);
    const ready = await p.ready;
    const inflight = fetch(`${ready.url}/slow`);
    await inUpstream;
    p.child.kill('SIGTERM');
    // Wait until the process says it is draining, then a new request must not get in.
    for (let i = 0; i < 100 && !p.logs.some((l) => l.msg === 'draining'); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(p.logs.some((l) => l.msg === 'draining'), 'the process logged that it is draining');
    await assert.rejects(fetch(`${ready.url}/slow`), 'a new connection is refused while draining');
    release();
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.deepEqual(await jsonOf(res), { slow: 'done' });
    assert.equal(await p.exited, 0);
    const stopped = p.logs.find((l) => l.msg === 'stopped');
    assert.equal(stopped?.unfinished, 0);
    await backend.close();
  });
});
