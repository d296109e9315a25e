/**
 * A real REST server on 127.0.0.1 that injects faults from a script and counts calls, so
 * resilience tests can assert exact attempt counts. Each path has a queue of faults; a call
 * takes the next one (or the path's default when the queue is empty):
 *   200 / 503 / 429 ...   answer with that status (JSON body {"n": <call number>})
 *   'reset'               destroy the socket without answering
 *   'hold'                answer 200 only when release() is called (for bulkhead tests)
 *   { status, headers }   a status with extra headers (Retry-After)
 */
import type { ServerResponse } from 'node:http';
import { json, startUpstream, type Upstream } from './upstream.ts';

export type Fault = number | 'reset' | 'hold' | { status: number; headers?: Record<string, string> };

export interface FaultyServer {
  url: string;
  upstream: Upstream;
  /** Faults for the next calls to `path`, in order. */
  script(path: string, faults: Fault[], otherwise?: Fault): void;
  /** Calls received on `path` so far. */
  calls(path: string): number;
  /** Calls currently held. */
  readonly held: number;
  /** Answers every held call with 200. */
  release(): void;
  close(): Promise<void>;
}

export async function startFaultyServer(): Promise<FaultyServer> {
  const queues = new Map<string, Fault[]>();
  const defaults = new Map<string, Fault>();
  const counts = new Map<string, number>();
  const holding: (() => void)[] = [];
  const upstream = await startUpstream((req, res) => {
    const path = req.url.split('?')[0];
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const fault = queues.get(path)?.shift() ?? defaults.get(path) ?? 200;
    answer(res, fault, n, holding);
  });
  return {
    url: upstream.url,
    upstream,
    script(path, faults, otherwise = 200) {
      queues.set(path, [...faults]);
      defaults.set(path, otherwise);
      counts.set(path, 0);
    },
    calls: (path) => counts.get(path) ?? 0,
    get held() {
      return holding.length;
    },
    release() {
      for (const answerHeld of holding.splice(0)) answerHeld();
    },
    close: () => upstream.close(),
  };
}

function answer(res: ServerResponse, fault: Fault, n: number, holding: (() => void)[]): void {
  if (fault === 'reset') return void res.socket?.destroy();
  if (fault === 'hold') return void holding.push(() => json(res, 200, { n, held: true }));
  const { status, headers } = typeof fault === 'number' ? { status: fault, headers: {} } : fault;
  for (const [k, v] of Object.entries(headers ?? {})) res.setHeader(k, v);
  json(res, status, { n });
}

/** Waits (bounded) until `condition` holds: for "the server has received N calls" points. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, maxTicks = 2000): Promise<void> {
  for (let i = 0; i < maxTicks; i++) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting until ${what}`);
}
