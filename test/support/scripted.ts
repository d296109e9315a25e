/**
 * A real backend on 127.0.0.1 whose behaviour a test scripts per request, and which observes
 * what orchestration must guarantee: how many requests were in flight at once, in what order
 * they arrived, and whether the client closed a connection before it was answered (an abort
 * that reached the socket). No timing is measured: tests wait for events, never for clocks.
 */
import type { ServerResponse } from 'node:http';
import { startUpstream, type Recorded, type Upstream } from './upstream.ts';

export interface Held {
  req: Recorded;
  res: ServerResponse;
}

export type Script = (req: Recorded, res: ServerResponse, backend: Scripted) => void | Promise<void>;

export interface Scripted extends Upstream {
  readonly inflight: number;
  readonly maxInflight: number;
  /** "METHOD /path" of every request, in arrival order. */
  readonly order: string[];
  /** Requests whose connection closed before they were answered. */
  readonly abandoned: string[];
  /** Resolves once `predicate` holds (checked after every arrival and every close). */
  until(predicate: () => boolean): Promise<void>;
}

export async function startScripted(script: Script): Promise<Scripted> {
  let inflight = 0;
  let maxInflight = 0;
  const order: string[] = [];
  const abandoned: string[] = [];
  const waiters: { predicate: () => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const w of [...waiters]) {
      if (w.predicate()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  let backend: Scripted;
  const upstream = await startUpstream((req, res) => {
    const name = `${req.method} ${req.url}`;
    order.push(name);
    inflight++;
    maxInflight = Math.max(maxInflight, inflight);
    res.on('close', () => {
      inflight--;
      if (!res.writableFinished) abandoned.push(name);
      check();
    });
    check();
    return script(req, res, backend);
  });
  backend = {
    url: upstream.url,
    requests: upstream.requests,
    get connections() {
      return upstream.connections;
    },
    close: () => upstream.close(),
    get inflight() {
      return inflight;
    },
    get maxInflight() {
      return maxInflight;
    },
    order,
    abandoned,
    until(predicate: () => boolean): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ predicate, resolve }));
    },
  };
  return backend;
}
