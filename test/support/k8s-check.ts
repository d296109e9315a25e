/**
 * Offline checks of Kubernetes manifests, since no API server runs here:
 * - schema: each object through kubernetes-models' validate() (the Kubernetes OpenAPI schemas);
 * - unknown fields: kubernetes-models' validators accept extra keys, so each object is also
 *   type-checked by the TypeScript compiler as an object literal of the model's interface
 *   (excess-property checks flag a misspelled or invented field, at any depth).
 */
import { join } from 'node:path';
import ts from 'typescript';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';

type Obj = { apiVersion: string; kind: string; [k: string]: unknown };

const MODELS: Record<string, { module: string; iface: string; make: (o: Obj) => { validate(): void } }> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1', iface: 'IConfigMap', make: (o) => new ConfigMap(o as never) },
  'v1/Service': { module: 'kubernetes-models/v1', iface: 'IService', make: (o) => new Service(o as never) },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1', iface: 'IDeployment', make: (o) => new Deployment(o as never) },
  'autoscaling/v2/HorizontalPodAutoscaler': { module: 'kubernetes-models/autoscaling/v2', iface: 'IHorizontalPodAutoscaler', make: (o) => new HorizontalPodAutoscaler(o as never) },
  'policy/v1/PodDisruptionBudget': { module: 'kubernetes-models/policy/v1', iface: 'IPodDisruptionBudget', make: (o) => new PodDisruptionBudget(o as never) },
  'keda.sh/v1alpha1/ScaledObject': { module: '@kubernetes-models/keda/keda.sh/v1alpha1', iface: 'IScaledObject', make: (o) => new ScaledObject(o as never) },
};

function modelOf(o: Obj) {
  const m = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!m) throw new Error(`no model for ${o.apiVersion} ${o.kind}`);
  return m;
}

/** Throws with the schema errors of the first invalid object. */
export function validateSchemas(objects: readonly Obj[]): void {
  for (const o of objects) modelOf(o).make(o).validate();
}

/** Compiler diagnostics of the objects as literals of their model interfaces; [] when every field is known. */
export function unknownFieldProblems(objects: readonly Obj[]): string[] {
  const root = join(import.meta.dirname, '../..');
  const virtual = join(root, 'test', '__k8s_manifests_check__.ts');
  const lines: string[] = [];
  objects.forEach((o, i) => {
    const m = modelOf(o);
    lines.push(`import type { ${m.iface} as T${i} } from '${m.module}';`);
  });
  objects.forEach((o, i) => lines.push(`export const o${i}: T${i} = ${JSON.stringify(o)};`));
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ESNext, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === virtual ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === virtual || fileExists(name);
  const program = ts.createProgram([virtual], options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(virtual)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}
