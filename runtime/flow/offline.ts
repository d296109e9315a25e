/**
 * Loading a flow to inspect it rather than serve it (`weft validate`, `openapi`, `k8s`):
 * the same load as `weft run` (every problem, file:line:col), with services that never listen.
 */
import { builtInRegistry } from '../components.ts';
import type { InflightTracker, RuntimeServices } from '../contract.ts';
import { silentLogger } from '../log.ts';
import type { Registry } from '../registry.ts';
import type { CompiledFlow } from './compile.ts';
import { loadFlow } from './load.ts';

const inflight: InflightTracker = { enter() {}, leave() {}, count: 0 };

export function offlineServices(): RuntimeServices {
  return { log: silentLogger(), port: 0, host: '127.0.0.1', inflight, draining: new AbortController().signal };
}

/** Loads and compiles `file`; throws FlowLoadError listing every problem. Opens nothing. */
export function loadFlowOffline(file: string, options: { registry?: Registry; env?: Readonly<Record<string, string | undefined>> } = {}): CompiledFlow {
  return loadFlow(file, { registry: options.registry ?? builtInRegistry(), services: offlineServices(), env: options.env });
}
