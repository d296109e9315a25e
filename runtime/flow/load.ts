/**
 * Flow file -> compiled flow, or every problem at once. The order: YAML syntax (nothing else
 * can be checked without it), then the schema and env variables together, then compilation
 * (expressions, references, files), so one run of `weft validate` shows all a user must fix.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { FlowInfo, RuntimeServices } from '../contract.ts';
import { FlowLoadError, type LoadProblem } from '../errors.ts';
import type { ValidateFunction } from '../json-schema.ts';
import type { Registry } from '../registry.ts';
import { compileFlow, type CompiledFlow, type FlowDocument } from './compile.ts';
import { parseFlow } from './parse.ts';
import { buildFlowSchema } from './schema.ts';
import { flowValidator } from './flow-validator.ts';
import { validateFlow } from './validate.ts';

export interface LoadOptions {
  registry: Registry;
  /** The process services, or a factory that gets the flow's identity once it is known. */
  services: RuntimeServices | ((flow: FlowInfo) => RuntimeServices);
  env?: Readonly<Record<string, string | undefined>>;
}

const validators = new WeakMap<Registry, ValidateFunction>();

function validatorFor(registry: Registry): ValidateFunction {
  let v = validators.get(registry);
  if (!v) {
    v = flowValidator(buildFlowSchema(registry));
    validators.set(registry, v);
  }
  return v;
}

/** Loads and compiles a flow file; throws FlowLoadError listing every problem. */
export function loadFlow(file: string, options: LoadOptions): CompiledFlow {
  const path = resolve(file);
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlowLoadError([{ code: 'FLOW_FILE', message: `cannot read flow file: ${(err as Error).message}`, file, line: 1, col: 1 }]);
  }
  return loadFlowSource(file, source, options, dirname(path));
}

export function loadFlowSource(file: string, source: string, options: LoadOptions, dir = process.cwd()): CompiledFlow {
  const env = options.env ?? process.env;
  const parsed = parseFlow(file, source, env);
  if (parsed.value === undefined && parsed.problems.length > 0) throw new FlowLoadError(sorted(parsed.problems));
  const valid = validateFlow(validatorFor(options.registry), parsed);
  if (!valid || parsed.problems.length > 0) throw new FlowLoadError(sorted(parsed.problems));
  const doc = parsed.value as FlowDocument;
  const info: FlowInfo = { name: doc.name, file, dir, env: Object.freeze({ ...env }) };
  const services = typeof options.services === 'function' ? options.services(info) : options.services;
  const compiled = compileFlow(options.registry, parsed, info, services);
  if (parsed.problems.length > 0) throw new FlowLoadError(sorted(parsed.problems));
  return compiled;
}

function sorted(problems: LoadProblem[]): LoadProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
}
