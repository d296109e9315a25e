/**
 * The work a broker flow does in the process tests (SIGKILL, SIGTERM, competing consumers,
 * connection cuts), the same for AMQP, NATS and MQTT: consume -> call a backend (slow, or held
 * until released) -> publish `{ id, by }` with the worker's name in the x-worker header.
 */
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
