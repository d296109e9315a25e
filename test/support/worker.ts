/**
 * The work a broker flow does in the process tests (SIGKILL, SIGTERM, competing consumers,
 * connection cuts), the same for AMQP, NATS and MQTT: consume -> call a backend (slow, or held
 * until released) -> publish `{ id, by }` with the worker's name in the x-worker header.
 */
import assert from 'node:assert/strict';
import { spawnFlow, type FlowProcess } from './process.ts';
import { eventually, ready } from './services.ts';
import type { TcpProxy } from './tcp-proxy.ts';
import { json, startUpstream, type Upstream } from './upstream.ts';

/** `trigger` is the trigger block (indented two spaces); `broker` the endpoint's body (four). */
export function workFlow(trigger: string, broker: string, output: string): string {
  return `
weft: 1
name: worker
trigger:
${trigger}
endpoints:
  broker:
${broker}
  backend:
    http: { url: "\${env.BACKEND_URL}" }
steps:
  - call: backend
    method: POST
    path: /work
    as: result
  - publish: { to: broker, key: ${output}, body: '{ "id": body.id, "by": vars.result.by }', headers: { x-worker: "\${env.WORKER}" } }
`;
}

export interface Backend {
  upstream: Upstream;
  /** Requests being held (hold mode). */
  held: (() => void)[];
  release(): void;
}

/** A backend that takes `delayMs` per request, or holds every request until released. */
export async function backend(delayMs: number, hold = false): Promise<Backend> {
  const held: (() => void)[] = [];
  const upstream = await startUpstream(async (_req, res) => {
    if (hold) await new Promise<void>((r) => held.push(r));
    else await new Promise((r) => setTimeout(r, delayMs));
    json(res, 200, { by: 'backend' });
  });
  return { upstream, held, release: () => held.splice(0).forEach((r) => r()) };
}

export const ids = (n: number): number[] => [...Array(n).keys()];

/** A test's view of a worker flow's broker: send `{ id }` to its input; what it published. */
export interface WorkIO {
  send(id: number): Promise<void>;
  /** The ids of the published results so far, duplicates included. */
  outIds(): number[];
  /** The x-worker header of each published result. */
  outWorkers(): string[];
}

const allDone = (io: WorkIO, n: number) => new Set(io.outIds()).size === n;

/**
 * Sends n messages to a ready flow, cuts its broker connection (the relay) mid-stream, checks
 * that /readyz turns 503, restores the path and waits until every message was processed.
 */
export async function cutMidStream(proxy: TcpProxy, adminUrl: string, io: WorkIO, n = 100): Promise<void> {
  await ready(adminUrl);
  for (const id of ids(n)) await io.send(id);
  await eventually(() => io.outIds().length >= 10, 'work under way');
  proxy.cut();
  await eventually(async () => (await fetch(`${adminUrl}/readyz`)).status === 503, 'not ready while the broker is away');
  proxy.restore();
  await ready(adminUrl);
  await eventually(() => allDone(io, n), `all ${n} processed after reconnecting`);
}

/** Two `weft run` processes of `file` (workers a and b) share 100 messages; both exit 0 on SIGTERM. */
export async function competingConsumers(file: string, backendUrl: string, io: WorkIO): Promise<void> {
  const a = await spawnFlow(file, { BACKEND_URL: backendUrl, WORKER: 'a' });
  const b = await spawnFlow(file, { BACKEND_URL: backendUrl, WORKER: 'b' });
  try {
    await ready(a.adminUrl);
    await ready(b.adminUrl);
    for (const id of ids(100)) await io.send(id);
    await eventually(() => allDone(io, 100), '100 messages processed');
    const by = (w: string) => io.outWorkers().filter((x) => x === w).length;
    assert.ok(by('a') > 0 && by('b') > 0, `both worked: a=${by('a')} b=${by('b')}`);
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
    assert.equal(await a.exited, 0);
    assert.equal(await b.exited, 0);
  }
}

/** SIGTERM while `inFlight` backend calls are held: the process drains, and exits 0 once they are released. */
export async function sigtermWhileHeld(proc: FlowProcess, b: Backend, inFlight: number): Promise<void> {
  await eventually(() => b.held.length === inFlight, `${inFlight} in flight`);
  proc.child.kill('SIGTERM');
  await eventually(() => proc.lines.some((l) => l.msg === 'draining'), 'the process drains');
  b.release();
  assert.equal(await proc.exited, 0);
}
