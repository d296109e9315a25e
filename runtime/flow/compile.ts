/**
 * Validated flow -> runnable: endpoints created (and wrapped in their policies), steps and
 * on_error compiled to closures, the trigger created around the pipeline. Nothing here does
 * I/O beyond checking referenced files; connections open later, in start().
 */
import { accessSync, constants } from 'node:fs';
import { resolve } from 'node:path';
import type { CompileContext, Endpoint, FlowInfo, Pipeline, RuntimeServices, StepFn, Trigger } from '../contract.ts';
import { withPolicies, type PolicyConfig } from '../engine/endpoint-policy.ts';
import { createPipeline, sequence, type PathedStep } from '../engine/pipeline.ts';
import { WeftError, type ErrorCode } from '../errors.ts';
import { compileExpression, type Expression } from '../expr/expression.ts';
import { compileTemplate, type Template } from '../expr/template.ts';
import type { Registry } from '../registry.ts';
import { SchemaSet, type SchemasConfig } from '../schemas/schema-set.ts';
import { forbidRespond } from '../steps/scope.ts';
import type { ParsedFlow, PathSegment } from './parse.ts';
import { didYouMean } from './suggest.ts';

export interface FlowDocument {
  weft: 1;
  name: string;
  description?: string;
  schemas?: SchemasConfig;
  trigger: Record<string, Record<string, unknown>>;
  endpoints?: Record<string, Record<string, unknown>>;
  steps?: Record<string, unknown>[];
  on_error?: Record<string, unknown>[];
}

export interface CompiledFlow {
  readonly info: FlowInfo;
  readonly doc: FlowDocument;
  readonly trigger: Trigger;
  readonly endpoints: readonly Endpoint[];
  readonly pipeline: Pipeline;
  /** Absolute paths of every file the flow read besides itself (schemas, IDL with imports). */
  readonly files: readonly string[];
  /** Absolute paths of the files holding secrets (TLS keys and certificates, secret files). */
  readonly secretFiles: readonly string[];
}

const NEVER: Expression = { source: '', fast: true, evaluate: () => undefined };
const EMPTY: Template = { source: '', constant: '', render: () => '' };

export function compileFlow(registry: Registry, parsed: ParsedFlow, info: FlowInfo, services: RuntimeServices): CompiledFlow {
  const doc = parsed.value as FlowDocument;
  const endpoints = new Map<string, Endpoint>();
  const files = new Set<string>();
  const secretFiles = new Set<string>();
  let schemas = new SchemaSet();

  const context = (segments: readonly PathSegment[]): CompileContext => {
    const here = (key: string | number | undefined): PathSegment[] => (key === undefined ? [...segments] : [...segments, key]);
    const readable = (relative: string, key: string | number, into: Set<string>): string | undefined => {
      const absolute = resolve(info.dir, relative);
      try {
        accessSync(absolute, constants.R_OK);
        into.add(absolute);
        return absolute;
      } catch {
        parsed.problem('FLOW_FILE', `cannot read file '${relative}' (resolved to ${absolute})`, here(key));
        return undefined;
      }
    };
    const ctx: CompileContext = {
      flow: info,
      log: services.log,
      path: formatPath(segments),
      get schemas() {
        return schemas;
      },
      child: (...more) => context([...segments, ...more]),
      problem(code: ErrorCode, message: string, key?: string | number) {
        parsed.problem(code, message, here(key));
      },
      expression(source: unknown, key: string | number): Expression {
        const text = typeof source === 'string' ? source : JSON.stringify(source ?? null);
        try {
          return compileExpression(text);
        } catch (err) {
          reportCompileError(parsed, here(key), err, typeof source === 'string');
          return NEVER;
        }
      },
      template(source: string, key: string | number): Template {
        try {
          return compileTemplate(source);
        } catch (err) {
          reportCompileError(parsed, here(key), err, true);
          return EMPTY;
        }
      },
      steps(list, key) {
        return compileSteps(list ?? [], here(key));
      },
      endpoint(name: string, key: string | number): Endpoint | undefined {
        const found = endpoints.get(name);
        if (!found) {
          const declared = [...endpoints.keys()];
          parsed.problem(
            'FLOW_REFERENCE',
            `unknown endpoint '${name}'${didYouMean(name, declared)} (declared: ${declared.join(', ') || 'none'})`,
            here(key),
          );
        }
        return found;
      },
      file: (relative, key) => readable(relative, key, files),
      secretFile: (relative, key) => readable(relative, key, secretFiles),
    };
    return ctx;
  };

  const compileSteps = (list: readonly Record<string, unknown>[], at: PathSegment[]): StepFn => {
    const compiled: PathedStep[] = [];
    list.forEach((config, i) => {
      const kind = Object.keys(config).find((k) => registry.steps.has(k));
      if (!kind) return; // the schema has already reported it
      const ctx = context([...at, i]);
      compiled.push({ fn: registry.steps.get(kind)!.compile(config, ctx), path: `${ctx.path}.${kind}` });
    });
    return sequence(compiled);
  };

  // IDL files first: endpoints, steps and the trigger resolve their types against them.
  schemas = SchemaSet.load(doc.schemas, context(['schemas']));

  for (const [name, config] of Object.entries(doc.endpoints ?? {})) {
    const kind = Object.keys(config).find((k) => registry.endpoints.has(k))!;
    const ctx = context(['endpoints', name, kind]);
    const endpoint = registry.endpoints.get(kind)!.create(name, config[kind] as Record<string, unknown>, ctx);
    endpoints.set(name, withPolicies(endpoint, config as PolicyConfig, services.metrics?.calls));
  }

  const steps = compileSteps(doc.steps ?? [], ['steps']);
  const onError = doc.on_error ? compileSteps(doc.on_error, ['on_error']) : undefined;
  const pipeline = createPipeline(steps, onError);

  const triggerKind = Object.keys(doc.trigger)[0];
  const triggerDef = registry.triggers.get(triggerKind)!;
  if (triggerDef.refusesRespond !== undefined) {
    forbidRespond(doc.steps, context(['steps']), triggerDef.refusesRespond);
    forbidRespond(doc.on_error, context(['on_error']), triggerDef.refusesRespond);
  }
  const trigger = triggerDef.create(doc.trigger[triggerKind], context(['trigger', triggerKind]), pipeline, services);

  for (const f of schemas.files) files.add(f);
  return { info, doc, trigger, endpoints: [...endpoints.values()], pipeline, files: [...files].sort(), secretFiles: [...secretFiles].sort() };
}

function reportCompileError(parsed: ParsedFlow, path: PathSegment[], err: unknown, quotedText: boolean): void {
  const e = WeftError.from(err, 'FLOW_EXPRESSION');
  const position = e.details?.position;
  const offset = quotedText && typeof position === 'number' ? position : 0;
  parsed.problem('FLOW_EXPRESSION', e.message, path, false, offset);
}

/** ['steps', 2, 'choice', 0] -> 'steps[2].choice[0]' */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) out += typeof s === 'number' ? `[${s}]` : out ? `.${s}` : s;
  return out;
}
