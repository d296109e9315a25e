/**
 * YAML -> value, keeping a way back from any path in the value to its line and column, so
 * every later problem (schema, expression, reference) can be reported where the user wrote it.
 * `${env.NAME}` (and `${env.NAME:-default}`) is resolved here, once, in every string value.
 */
import { LineCounter, isMap, isScalar, isSeq, parseDocument, visit, type Document, type Node } from 'yaml';
import type { ErrorCode, LoadProblem } from '../errors.ts';

export type PathSegment = string | number;

export interface Position {
  line: number;
  col: number;
}

export interface ParsedFlow {
  readonly file: string;
  /** The flow as plain values; undefined when the YAML did not parse. */
  readonly value: unknown;
  readonly problems: LoadProblem[];
  /** Position of the node at `path`, or of its key when `key` is true; the nearest parent when absent. */
  locate(path: readonly PathSegment[], key?: boolean): Position;
  problem(code: ErrorCode, message: string, path: readonly PathSegment[], key?: boolean, offset?: number): void;
}

const ENV_REF = /(?<!\$)\$\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\s*\}/g;

export function parseFlow(file: string, source: string, env: Readonly<Record<string, string | undefined>>): ParsedFlow {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems: LoadProblem[] = [];
  const at = (offset: number): Position => {
    const p = lines.linePos(offset);
    return { line: Math.max(p.line, 1), col: Math.max(p.col, 1) };
  };
  const locate = (path: readonly PathSegment[], key = false): Position => at(nodeAt(doc, path, key).offset);
  const problem: ParsedFlow['problem'] = (code, message, path, key = false, offset = 0) => {
    const found = nodeAt(doc, path, key);
    // An offset inside a quoted scalar's text starts after the opening quote.
    const quoted = isScalar(found.node) && (found.node.type === 'QUOTE_DOUBLE' || found.node.type === 'QUOTE_SINGLE');
    const pos = at(found.offset + (offset > 0 && quoted ? offset + 1 : offset));
    problems.push({ code, message, file, ...pos });
  };

  for (const err of doc.errors) {
    const pos = at(err.pos[0]);
    problems.push({ code: 'FLOW_SYNTAX', message: firstLine(err.message), file, ...pos });
  }
  if (problems.length > 0) return { file, value: undefined, problems, locate, problem };

  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('${')) return;
      const text = node.value;
      node.value = text.replace(ENV_REF, (match: string, name: string, fallback: string | undefined, index: number) => {
        const value = env[name];
        if (value !== undefined) return value;
        if (fallback !== undefined) return fallback;
        const quote = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE' ? 1 : 0;
        const pos = at((node.range?.[0] ?? 0) + quote + index);
        problems.push({ code: 'FLOW_ENV', message: `environment variable ${name} is not set (${match})`, file, ...pos });
        return match;
      });
    },
  });

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push({ code: 'FLOW_SYNTAX', message: (err as Error).message, file, line: 1, col: 1 });
  }
  return { file, value, problems, locate, problem };
}

function firstLine(message: string): string {
  const nl = message.indexOf('\n');
  return nl === -1 ? message : message.slice(0, nl);
}

/** Walks the YAML nodes along `path`; stops at the deepest node that exists. */
function nodeAt(doc: Document, path: readonly PathSegment[], key: boolean): { offset: number; node: Node | null | undefined } {
  let node: Node | null | undefined = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      // A single step written where a list is allowed (a parallel branch) is compiled as
      // the list of that one step: its [0] is the map itself.
      if (!pair && seg === 0) continue;
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (last && key) return { offset: keyNode.range?.[0] ?? offset, node: keyNode };
      node = pair.value as Node | null;
      offset = node?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      node = item;
      offset = node.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  return { offset, node };
}
