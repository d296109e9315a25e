/**
 * Checks a parsed flow against the whole-flow schema and turns ajv's errors into load
 * problems a user can act on: where (file:line:col), what is wrong, what was expected.
 */
import { pointerToSegments, type ErrorObject, type ValidateFunction } from '../json-schema.ts';
import type { ParsedFlow, PathSegment } from './parse.ts';
import { EXPECTED_KEYWORD, UNION_KEYWORD } from './schema-parts.ts';
import { formatPath } from './compile.ts';
import { didYouMean } from './suggest.ts';

interface UnionInfo {
  kind: string;
  keys: string[];
}

/** Records every schema violation of `parsed.value` as a FLOW_SCHEMA problem; true when valid. */
export function validateFlow(validate: ValidateFunction, parsed: ParsedFlow): boolean {
  if (validate(parsed.value)) return true;
  const seen = new Set<string>();
  for (const err of relevant(validate.errors ?? [])) {
    const found = describe(err);
    if (!found) continue;
    const id = `${found.path.join('/')}|${found.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    parsed.problem('FLOW_SCHEMA', found.message, found.path, found.atKey);
  }
  return false;
}

/** Drops the noise of unions: the per-kind `required` checks and `if` wrappers. */
function relevant(errors: readonly ErrorObject[]): ErrorObject[] {
  const unionPaths = errors.filter((e) => e.keyword === 'oneOf' && unionOf(e)).map((e) => e.schemaPath);
  return errors.filter((e) => {
    if (e.keyword === 'if') return false;
    return !unionPaths.some((p) => e.schemaPath !== p && e.schemaPath.startsWith(`${p}/`));
  });
}

function unionOf(e: ErrorObject): UnionInfo | undefined {
  return (e.parentSchema as Record<string, unknown> | undefined)?.[UNION_KEYWORD] as UnionInfo | undefined;
}

interface Described {
  path: PathSegment[];
  message: string;
  atKey: boolean;
}

function describe(e: ErrorObject): Described | undefined {
  const path = pointerToSegments(e.instancePath);
  const where = path.length ? `'${formatPath(path)}'` : 'the flow';
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const allowed = Object.keys((parent.properties as Record<string, unknown>) ?? {});
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key '${key}' in ${where}${didYouMean(key, allowed)} (expected one of: ${allowed.join(', ')})`,
      };
    }
    case 'required':
      return { path, atKey: false, message: `missing required key '${e.params.missingProperty}' in ${where}` };
    case 'oneOf': {
      const u = unionOf(e);
      if (!u) return { path, atKey: false, message: `${where} ${e.message}` };
      const present = Object.keys((e.data as Record<string, unknown>) ?? {});
      const kinds = present.filter((k) => u.keys.includes(k));
      if (kinds.length > 1) {
        return { path, atKey: false, message: `a ${u.kind} has exactly one kind key, found ${kinds.join(' and ')}` };
      }
      const guess = present.map((k) => didYouMean(k, u.keys)).find(Boolean) ?? '';
      const named = present.length ? ` ('${present.join("', '")}' ${present.length > 1 ? 'are' : 'is'} not a ${u.kind} kind${guess})` : '';
      return { path, atKey: false, message: `unknown ${u.kind}${named}: expected one of ${u.keys.join(', ')}` };
    }
    case 'type':
      return { path, atKey: false, message: `${where} must be ${String(e.params.type).replace(',', ' or ')}, got ${typeName(e.data)}` };
    case 'enum':
      return {
        path,
        atKey: false,
        message: `${where} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(e.data)}`,
      };
    case 'const':
      return { path, atKey: false, message: `${where} must be ${JSON.stringify(e.params.allowedValue)}, got ${JSON.stringify(e.data)}` };
    case 'pattern': {
      const expected = parent[EXPECTED_KEYWORD] as string | undefined;
      return { path, atKey: false, message: `${where} must be ${expected ?? `text matching ${e.params.pattern}`}, got ${JSON.stringify(e.data)}` };
    }
    case 'propertyNames':
      return undefined; // reported by its own pattern error with the name
    default:
      return { path, atKey: false, message: `${where} ${e.message ?? 'is invalid'}` };
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}
