/**
 * The benchmark targets: Weft and the baselines a user would otherwise pick. Each starts one
 * process (pinned to the target CPU) that serves a scenario on a loopback port and calls the
 * static backend at BACKEND_URL.
 */
import { join } from 'node:path';
import { hasCommand, start, type Proc } from './lib/process.ts';
import { NGINX, startProxy } from './lib/nginx.ts';
import { ensureNodeRed, nodeRedInstalled, startNodeRed } from './lib/node-red.ts';
import type { ScenarioId } from './scenarios.ts';

export const ROOT = join(import.meta.dirname, '..');
export const COMPILE_CACHE = join(ROOT, 'bench/results/compile-cache');

export interface StartOptions {
  cpus?: string;
  port: number;
  backendPort: number;
  /** S5's Thrift backend (bench/thrift-backend.ts), when S5 runs. */
  thriftPort?: number;
  /** Extra Node flags for Node targets (bench/profile.ts passes --cpu-prof). */
  nodeArgs?: string[];
  /** A command that runs Node targets' node (bench/instructions.ts passes valgrind). */
  launcher?: string[];
}

export interface Target {
  name: string;
  label: string;
  /** Ratios are given against each baseline. */
  baseline: boolean;
  scenarios: readonly ScenarioId[];
  /** Why it cannot run here, or undefined. */
  unavailable(): string | undefined;
  /** Installs what it needs on first use (may take a while). */
  prepare?(): void;
  start(scenario: ScenarioId, o: StartOptions): Proc;
}

/** Node targets share the same Node, a warm compile cache and quiet logs. */
function nodeEnv(o: StartOptions): NodeJS.ProcessEnv {
  const thrift = o.thriftPort ? { THRIFT_URL: `tcp://127.0.0.1:${o.thriftPort}` } : {};
  return { ...process.env, ...thrift, PORT: String(o.port), BACKEND_URL: `http://127.0.0.1:${o.backendPort}`, LOG_LEVEL: 'warn', NODE_COMPILE_CACHE: COMPILE_CACHE, NODE_ENV: 'production' };
}

/** Runs `script args` with the shared Node, behind `o.launcher` when one is given. */
function startNode(o: StartOptions, args: string[]): Proc {
  const [cmd, ...pre] = [...(o.launcher ?? []), process.execPath];
  return start(o.cpus, cmd, [...pre, ...(o.nodeArgs ?? []), ...args], { cwd: ROOT, env: nodeEnv(o) });
}

const LOAD: readonly ScenarioId[] = ['s1', 's2', 's3', 's4', 's5'];

/** A hand-written Node baseline: one script serving every load scenario's route. */
function handWritten(name: string, label: string, script: string): Target {
  return {
    name,
    label,
    baseline: true,
    scenarios: LOAD,
    unavailable: () => undefined,
    start: (_s, o) => startNode(o, [script]),
  };
}

export const TARGETS: Target[] = [
  {
    name: 'weft',
    label: 'Weft',
    baseline: false,
    scenarios: LOAD,
    unavailable: () => undefined,
    start: (s, o) => startNode(o, ['bin/weft.js', 'run', `bench/flows/${s === 's4' ? 's1' : s}.yaml`, '--port', String(o.port), '--admin-port', '0', '--host', '127.0.0.1']),
  },
  handWritten('hono', 'hono + undici', 'bench/baselines/hono.ts'),
  handWritten('node', 'node:http + undici', 'bench/baselines/node-http.ts'),
  {
    name: 'nginx',
    label: 'nginx (proxy)',
    baseline: true,
    // A plain reverse proxy: it cannot build SOAP or merge JSON without scripting modules.
    scenarios: ['s1', 's4'],
    unavailable: () => (hasCommand(NGINX) ? undefined : 'nginx is not installed (apt-get install nginx-light)'),
    start: (_s, o) => startProxy(o.cpus, o.port, o.backendPort),
  },
  {
    name: 'nodered',
    label: 'Node-RED',
    baseline: true,
    // Stock Node-RED has no Thrift or ProtoBuf nodes: S5 would measure add-ons, not Node-RED.
    scenarios: ['s1', 's2', 's3', 's4'],
    unavailable: () => undefined,
    prepare: ensureNodeRed,
    start: (_s, o) => {
      if (!nodeRedInstalled()) ensureNodeRed();
      return startNodeRed(o.cpus, o.port, `http://127.0.0.1:${o.backendPort}`, nodeEnv(o));
    },
  },
];

export const targetNamed = (name: string): Target | undefined => TARGETS.find((t) => t.name === name);
