#!/usr/bin/env node
/**
 * weft run | validate | openapi | k8s | schema. Thin: parses argv and calls the rest. Exit codes: 0 ok,
 * 1 flow problems (printed as file:line:col CODE message), 2 usage.
 */
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { builtInRegistry } from './components.ts';
import { startFlow } from './engine/lifecycle.ts';
import { FlowLoadError, formatProblem } from './errors.ts';
import { loadFlowOffline } from './flow/offline.ts';
import { buildOpenApi } from './admin/openapi.ts';
import type { CompiledFlow } from './flow/compile.ts';
import { buildFlowSchema } from './flow/schema.ts';
import { GENERATED_VALIDATOR, generateFlowValidator } from './flow/flow-validator.ts';
import { buildManifests, K8sError, manifestsYaml, secretInstructions, type K8sOptions } from './k8s/manifests.ts';
import { createLogger } from './log.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_FILE = resolve(ROOT, 'docs/weft-flow.schema.json');

const USAGE = `Usage:
  weft run FLOW [--port N] [--admin-port N] [--host H]   serve one flow (env: PORT, ADMIN_PORT, HOST, LOG_LEVEL)
  weft validate FLOW...                                   check flow files; problems as file:line:col CODE message
  weft openapi FLOW                                       print the OpenAPI 3.1 document of the flow's trigger
  weft k8s FLOW --image IMAGE [--replicas N] [--min N] [--max N] [--cpu 100m] [--memory 256Mi]
           [--cpu-target 70] [--namespace NS] [--env NAME=VALUE]...
           [--queue-target 20] [--nats-monitoring HOST:8222]
                                                          print Kubernetes manifests for the flow (ConfigMap,
                                                          Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget;
                                                          queue-triggered flows: a KEDA ScaledObject on the backlog)
  weft schema [--write]                                   print the flow JSON Schema (--write: ${'docs/weft-flow.schema.json'})
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`${name} must be a port number, got '${value}'`);
  return n;
}

async function run(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { port: { type: 'string' }, 'admin-port': { type: 'string' }, host: { type: 'string' } },
  });
  if (positionals.length !== 1) fail(`weft run takes one flow file (one process runs one flow)\n${USAGE}`);
  const log = createLogger();
  let running;
  try {
    running = await startFlow(positionals[0], {
      port: intOption(values.port ?? process.env.PORT, 'port') ?? 8080,
      adminPort: intOption(values['admin-port'] ?? process.env.ADMIN_PORT, 'admin port') ?? 8081,
      host: values.host ?? process.env.HOST ?? '0.0.0.0',
      log,
    });
  } catch (err) {
    if (err instanceof FlowLoadError) fail(err.problems.map(formatProblem).join('\n'), 1);
    fail(`weft: ${(err as Error).message}`, 1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

function validate(files: string[]): void {
  if (files.length === 0) fail(`weft validate takes one or more flow files\n${USAGE}`);
  const registry = builtInRegistry();
  let bad = 0;
  for (const file of files) {
    try {
      loadFlowOffline(file, { registry });
      process.stdout.write(`${file}: ok\n`);
    } catch (err) {
      bad++;
      if (err instanceof FlowLoadError) process.stdout.write(`${err.problems.map(formatProblem).join('\n')}\n`);
      else process.stdout.write(`${file}:1:1 INTERNAL ${(err as Error).message}\n`);
    }
  }
  process.exitCode = bad > 0 ? 1 : 0;
}

/** Loads one flow for a generator; on problems prints them like `weft validate` and exits 1. */
function loadOrExit(file: string | undefined, command: string, env?: Record<string, string | undefined>): CompiledFlow {
  if (file === undefined) fail(`weft ${command} takes one flow file\n${USAGE}`);
  try {
    return loadFlowOffline(file, { env });
  } catch (err) {
    if (err instanceof FlowLoadError) fail(err.problems.map(formatProblem).join('\n'), 1);
    fail(`${file}:1:1 INTERNAL ${(err as Error).message}`, 1);
  }
}

function openapi(args: string[]): void {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  if (positionals.length !== 1) fail(`weft openapi takes one flow file\n${USAGE}`);
  const flow = loadOrExit(positionals[0], 'openapi');
  process.stdout.write(`${JSON.stringify(buildOpenApi(flow), null, 2)}\n`);
}

function k8s(args: string[]): void {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      image: { type: 'string' },
      replicas: { type: 'string' },
      min: { type: 'string' },
      max: { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      'cpu-target': { type: 'string' },
      namespace: { type: 'string' },
      env: { type: 'string', multiple: true },
      'queue-target': { type: 'string' },
      'nats-monitoring': { type: 'string' },
    },
  });
  if (positionals.length !== 1) fail(`weft k8s takes one flow file\n${USAGE}`);
  if (!values.image) fail(`weft k8s needs --image IMAGE (the Weft image the flow runs in)\n${USAGE}`);
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) fail(`--env takes NAME=VALUE, got '${pair}'`);
    env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const count = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 1000) fail(`--${what} must be a whole number from 1 to 1000, got '${v}'`);
    return n;
  };
  const options: K8sOptions = {
    image: values.image,
    replicas: count(values.replicas, 'replicas'),
    min: count(values.min, 'min'),
    max: count(values.max, 'max'),
    cpuTarget: count(values['cpu-target'], 'cpu-target'),
    cpu: quantity(values.cpu, 'cpu', /^\d+(\.\d+)?m?$/),
    memory: quantity(values.memory, 'memory', /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/),
    namespace: values.namespace,
    env,
    queueTarget: count(values['queue-target'], 'queue-target'),
    natsMonitoring: values['nats-monitoring'],
  };
  // The flow loads with the variables the pods will have, so ${env.X} problems show here.
  const flow = loadOrExit(positionals[0], 'k8s', { ...process.env, ...env });
  try {
    process.stdout.write(manifestsYaml(buildManifests(flow, options)));
    const secrets = secretInstructions(flow, options.namespace);
    if (secrets) process.stderr.write(`${secrets}\n`);
  } catch (err) {
    if (err instanceof K8sError) fail(`weft k8s: ${err.message}`, 1);
    throw err;
  }
}

function quantity(value: string | undefined, what: string, shape: RegExp): string | undefined {
  if (value !== undefined && !shape.test(value)) fail(`--${what} must be a Kubernetes quantity (e.g. ${what === 'cpu' ? '250m or 1' : '256Mi'}), got '${value}'`);
  return value;
}

export function schemaText(): string {
  return `${JSON.stringify(buildFlowSchema(builtInRegistry()), null, 2)}\n`;
}

function schema(args: string[]): void {
  const text = schemaText();
  if (args.includes('--write')) {
    writeFileSync(SCHEMA_FILE, text);
    writeFileSync(GENERATED_VALIDATOR, generateFlowValidator(buildFlowSchema(builtInRegistry())));
    process.stdout.write(`wrote ${SCHEMA_FILE} and ${GENERATED_VALIDATOR.pathname}\n`);
  } else {
    process.stdout.write(text);
  }
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return run(rest);
    case 'validate':
      return validate(rest);
    case 'schema':
      return schema(rest);
    case 'openapi':
      return openapi(rest);
    case 'k8s':
      return k8s(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command '${command}'\n${USAGE}`);
  }
}

export { main };
