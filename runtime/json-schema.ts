/**
 * The one place that makes ajv instances (flow validation, `validate` steps, trigger body
 * schemas), so every JSON Schema in a flow is compiled the same way, once, at load time.
 */
import type AjvModule from 'ajv';
import type { ErrorObject, Options, ValidateFunction } from 'ajv';
import type addFormatsModule from 'ajv-formats';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { WeftError } from './errors.ts';

type AjvClass = typeof AjvModule.default;
type AddFormats = typeof addFormatsModule.default;

export type { ErrorObject, ValidateFunction };
export type AjvInstance = InstanceType<AjvClass>;

const require = createRequire(import.meta.url);

/** ajv (CommonJS) is loaded on first use: a flow without JSON Schemas never pays for it. */
export function createAjv(options: Options = {}): AjvInstance {
  const Ajv = (require('ajv') as { default: AjvClass }).default;
  const addFormats = (require('ajv-formats') as { default: AddFormats }).default;
  const ajv = new Ajv({ allErrors: true, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** A failed check as users read it: the JSON path of the offending value and what was wrong. */
export interface SchemaViolation {
  path: string;
  message: string;
}

/** `/lines/0/qty` + `must be >= 1` -> `{ path: "lines[0].qty", message: "must be >= 1" }` */
export function violations(errors: readonly ErrorObject[] | null | undefined): SchemaViolation[] {
  return (errors ?? []).map((e) => {
    let path = pointerToPath(e.instancePath);
    if (e.keyword === 'required') path = join(path, String(e.params.missingProperty));
    if (e.keyword === 'additionalProperties') path = join(path, String(e.params.additionalProperty));
    const message =
      e.keyword === 'additionalProperties' ? 'is not allowed' : e.keyword === 'required' ? 'is required' : (e.message ?? 'is invalid');
    return { path: path || '(root)', message };
  });
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

export function pointerToSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function pointerToPath(pointer: string): string {
  let out = '';
  for (const seg of pointerToSegments(pointer)) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}

let userAjv: AjvInstance | undefined;

/**
 * Compiles a JSON Schema file a flow references (`validate`, trigger `schema`). JSON or YAML.
 * Returns a checker that throws WeftError VALIDATION listing every failing path.
 */
export function compileSchemaFile(absolutePath: string): (value: unknown) => void {
  const schema: unknown = parseYaml(readFileSync(absolutePath, 'utf8'));
  userAjv ??= createAjv({ strict: false });
  const check = userAjv.compile(schema as object);
  return function checkSchema(value: unknown): void {
    if (check(value)) return;
    // ajv knows no BigInt (exact integers beyond 2^53): check those as numbers, only when present.
    if (hasBigInt(value) && check(bigIntsAsNumbers(value))) return;
    const list = violations(check.errors);
    throw new WeftError('VALIDATION', `body does not match its schema: ${list.map((v) => `${v.path} ${v.message}`).join('; ')}`, {
      details: { violations: list },
    });
  };
}

function hasBigInt(v: unknown): boolean {
  if (typeof v === 'bigint') return true;
  if (v === null || typeof v !== 'object') return false;
  return Array.isArray(v) ? v.some(hasBigInt) : Object.values(v).some(hasBigInt);
}

function bigIntsAsNumbers(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(bigIntsAsNumbers);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bigIntsAsNumbers(x)]));
}
