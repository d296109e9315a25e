/**
 * JSONata, evaluated only when a flow needs it. Evaluating the library costs a few
 * milliseconds of every start (the S4 startup target, docs/benchmarks.md), yet the most common
 * expressions are plain field paths (`params.id`, `body.customer.name`) that the fast path
 * runs without it. Such a path is parsed here into the very AST JSONata would produce (a test
 * compares the two); anything else goes to JSONata's own parser, which also reports syntax
 * errors with their position.
 */
import type jsonataType from 'jsonata';
import { once, requireModule } from '../lazy.ts';
import type { AstNode } from './fast-path.ts';

/** The jsonata() function, loaded on first use (from the bundle when it carries it). */
export const jsonata: () => typeof jsonataType = once(() => requireModule<typeof jsonataType>('jsonata'));

/** One step of a field path, as JSONata's tokenizer reads a name (no backquotes, no operators). */
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s*/y;
/** Words JSONata's tokenizer reads as operators or values, never as field names. */
const RESERVED: ReadonlySet<string> = new Set(['and', 'or', 'in', 'true', 'false', 'null', 'function']);

/**
 * The JSONata AST of `source` when it is a plain field path (`a`, `a.b.c`, spaces allowed
 * around the whole), else undefined. JSONata gives each name step the offset just after it.
 */
export function parseSimplePath(source: string): AstNode | undefined {
  const steps: AstNode[] = [];
  SPACE.lastIndex = 0;
  SPACE.test(source);
  let at = SPACE.lastIndex;
  for (;;) {
    NAME.lastIndex = at;
    const name = NAME.exec(source);
    if (name === null || RESERVED.has(name[0])) return undefined;
    at = NAME.lastIndex;
    steps.push({ value: name[0], type: 'name', position: at });
    if (source.charCodeAt(at) !== 46 /* . */) break;
    at++;
  }
  SPACE.lastIndex = at;
  SPACE.test(source);
  return SPACE.lastIndex === source.length ? { type: 'path', steps } : undefined;
}
