/**
 * Start and stop of one flow process: load (every problem at once, nothing listening on
 * failure), open endpoints, listen, report ready; on stop, drain: readiness goes false, the
 * trigger stops accepting, in-flight messages finish (until the drain deadline), endpoints close.
 */
import { performance } from 'node:perf_hooks';
import type { FlowInfo, Health, InflightTracker, RuntimeServices } from '../contract.ts';
import { createFlowMetrics, type FlowMetrics } from '../admin/metrics.ts';
import { buildOpenApi } from '../admin/openapi.ts';
import { createAdminServer } from '../admin/server.ts';
import { builtInRegistry } from '../components.ts';
import type { CompiledFlow } from '../flow/compile.ts';
import { loadFlow } from '../flow/load.ts';
import { createLogger, type Logger } from '../log.ts';
import type { Registry } from '../registry.ts';

/** How long in-flight messages may take after SIGTERM (k8s grace periods are derived from it). */
export const DRAIN_TIMEOUT_MS = 25_000;

export interface StartOptions {
  port?: number;
  adminPort?: number;
  host?: string;
  log?: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  /** How long in-flight messages may take to finish after stop() begins. Default 25 s. */
  drainTimeoutMs?: number;
  registry?: Registry;
}

export interface RunningFlow {
  readonly flow: CompiledFlow;
  /** Base URL of the trigger, e.g. http://127.0.0.1:8080 */
  readonly url: string | undefined;
  readonly adminUrl: string | undefined;
  readonly inflight: InflightTracker;
  /** The process metrics served at the admin port's /metrics. */
  readonly metrics: FlowMetrics | undefined;
  /** Graceful stop; resolves when everything is closed. */
  stop(): Promise<void>;
}

class Inflight implements InflightTracker {
  count = 0;
  #idle: (() => void)[] = [];
  enter(): void {
    this.count++;
  }
  leave(): void {
    if (--this.count === 0 && this.#idle.length > 0) for (const wake of this.#idle.splice(0)) wake();
  }
  idle(deadline: AbortSignal): Promise<void> {
    if (this.count === 0 || deadline.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      deadline.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}

export async function startFlow(file: string, options: StartOptions = {}): Promise<RunningFlow> {
  const log = options.log ?? createLogger();
  const drainTimeoutMs = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
  const inflight = new Inflight();
  const draining = new AbortController();
  const host = options.host ?? '0.0.0.0';
  let flowLog = log;
  let metrics: FlowMetrics | undefined;
  const services = (info: FlowInfo): RuntimeServices => {
    flowLog = log.child({ flow: info.name });
    metrics = createFlowMetrics(info.name, inflight);
    return { log: flowLog, port: options.port ?? 8080, host, inflight, draining: draining.signal, metrics };
  };
  const flow = loadFlow(file, { registry: options.registry ?? builtInRegistry(), services, env: options.env });

  metrics?.watchPolicies(() => Object.fromEntries(flow.endpoints.map((e) => [e.name, e.health().policies])));
  let started = false;
  const admin = createAdminServer({
    live: () => true,
    ready: () => {
      const checks: Record<string, Health> = { trigger: flow.trigger.health() };
      for (const e of flow.endpoints) checks[e.name] = e.health();
      const ok = started && !draining.signal.aborted && Object.values(checks).every((c) => c.ok);
      return { ok, checks };
    },
  }, { metrics, openapi: buildOpenApi(flow) });

  for (const e of flow.endpoints) await e.start();
  await flow.trigger.start();
  await admin.start(options.adminPort ?? 8081, host);
  started = true;
  flowLog.info(
    {
      route: flow.trigger.describe,
      url: flow.trigger.address(),
      admin: admin.address(),
      endpoints: flow.endpoints.map((e) => `${e.name} (${e.kind})`),
      readyMs: Math.round(performance.now()),
    },
    'ready',
  );

  let stopping: Promise<void> | undefined;
  return {
    flow,
    url: flow.trigger.address(),
    adminUrl: admin.address(),
    inflight,
    metrics,
    stop() {
      stopping ??= (async () => {
        const began = performance.now();
        draining.abort();
        const deadline = AbortSignal.timeout(drainTimeoutMs);
        flowLog.info({ inflight: inflight.count, drainTimeoutMs }, 'draining');
        await flow.trigger.stop(deadline);
        await inflight.idle(deadline);
        await Promise.all(flow.endpoints.map((e) => e.stop(deadline)));
        await admin.stop();
        flowLog.info({ drainMs: Math.round(performance.now() - began), unfinished: inflight.count }, 'stopped');
      })();
      return stopping;
    },
  };
}
