/**
 * Compiles the common subset of a JSONata AST to plain synchronous closures, so the hot path
 * does not pay for JSONata's async evaluator (~4-50 us per call) on simple expressions.
 *
 * The closures must give exactly JSONata's answer. Rather than re-implementing JSONata's rarer
 * semantics (sequence mapping over arrays, error messages, ...), a closure returns DEFER
 * whenever it meets a value it is not sure of; the caller then evaluates the whole expression
 * with JSONata. Deferring is always safe because every compiled construct is free of side
 * effects. In particular no closure throws: every case where JSONata raises an error (T2001,
 * T2002, T2009, T2010, D1001, D1002, D3001, ...) defers, so JSONata produces its own error.
 * (Only a getter of the context itself can throw, e.g. a lazily decoded body that is malformed;
 * that error passes through unchanged on both paths.)
 *
 * BigInt (integers beyond 2^53, decoded exactly): path access returns it unchanged and `=`/`!=`
 * compare it exactly as JSONata does, as does truthiness (JSONata counts a BigInt as false);
 * arithmetic, ordering, negation and `&` DEFER, so JSONata
 * raises its own error (T2001/T2002/T2010, or a TypeError from JSON.stringify) and
 * expression.ts adds a hint that the value is a BigInt. Both paths therefore fail the same way.
 *
 * The helpers below mirror JSONata 2.x functions of the same name (evaluateStep/lookup,
 * fn.boolean, fn.string, isDeepEqual, evaluateNumericExpression, ...); comments say where.
 */

/** Returned by a closure when JSONata itself must evaluate the expression. */
export const DEFER: unique symbol = Symbol('weft.expr.defer');

/** A compiled expression: the value for this context, or DEFER. Throws only what context getters throw. */
export type FastFn = (root: object) => unknown;

/** The parts of JSONata's AST node shape that this compiler reads. */
export interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly position?: number;
  readonly steps?: readonly AstNode[];
  readonly lhs?: AstNode | readonly (readonly [AstNode, AstNode])[];
  readonly rhs?: AstNode;
  readonly expression?: AstNode;
  readonly expressions?: readonly AstNode[];
  readonly condition?: AstNode;
  readonly then?: AstNode;
  readonly else?: AstNode;
  readonly procedure?: AstNode;
  readonly arguments?: readonly AstNode[];
}

/** The keys of the evaluation context; see contextForJsonata for why they are special. */
export const CONTEXT_KEYS: readonly string[] = ['body', 'headers', 'params', 'query', 'vars', 'env', 'error', 'flow', 'auth'];
const CONTEXT_KEY_SET: ReadonlySet<string> = new Set(CONTEXT_KEYS);

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

// ---------------------------------------------------------------------------------------------
// The context as JSONata sees it.

/**
 * JSONata reads a field only when it is an OWN property (`lookup` uses hasOwnProperty), so a
 * context whose `body` is a getter on a class prototype looks empty to it. For such contexts
 * JSONata gets a view object whose own, enumerable getters delegate to the context (lazily, so
 * a lazily decoded body is only decoded when the expression reads it). Plain objects are used
 * as they are. readRoot below is the fast path's twin of this view: keep them in step.
 */
export function contextForJsonata(ctx: object): object {
  const proto: unknown = Object.getPrototypeOf(ctx);
  if (proto === Object.prototype || proto === null || Array.isArray(ctx)) return ctx;
  const source = ctx as Record<string, unknown>;
  const view = {};
  const keys = new Set<string>(Object.getOwnPropertyNames(ctx));
  for (const key of CONTEXT_KEYS) if (key in ctx) keys.add(key);
  for (const key of keys) {
    Object.defineProperty(view, key, { get: () => source[key], enumerable: true });
  }
  return view;
}

/** Reads the first step of a path from the context, the way JSONata reads contextForJsonata(ctx). */
function readRoot(key: string): (root: object) => unknown {
  if (CONTEXT_KEY_SET.has(key)) return (root) => (root as Record<string, unknown>)[key];
  return (root) => (hasOwn(root, key) ? (root as Record<string, unknown>)[key] : undefined);
}

// ---------------------------------------------------------------------------------------------
// Value semantics mirrored from JSONata.

/** JSONata's isFunction: functions, and objects marked as JSONata functions or lambdas. */
function isJsonataFunction(v: unknown): boolean {
  if (typeof v === 'function') return true;
  if (typeof v !== 'object' || v === null) return false;
  const marks = v as { _jsonata_function?: unknown; _jsonata_lambda?: unknown };
  return marks._jsonata_function === true || marks._jsonata_lambda === true;
}

/**
 * One path step from a value that is not the last: JSONata's `lookup`. Arrays are where JSONata
 * starts mapping over sequences and flattening, so they defer.
 */
function step(v: unknown, key: string): unknown {
  if (typeof v !== 'object' || v === null) return undefined; // primitives and functions have no fields
  if (Array.isArray(v)) return DEFER;
  if (isJsonataFunction(v) || !hasOwn(v, key)) return undefined;
  return (v as Record<string, unknown>)[key];
}

/**
 * The value at the end of a path. A plain array is returned as is (evaluateStep's `lastStep`
 * rule keeps the very array from the input); an array already marked as a JSONata sequence
 * would be flattened, and a function would be wrapped, so those defer.
 */
function settle(v: unknown): unknown {
  if (typeof v === 'function') return DEFER;
  if (Array.isArray(v) && (v as { sequence?: unknown }).sequence === true) return DEFER;
  return v;
}

/** JSONata's isNumeric: NaN is not numeric and ±Infinity is an error (D1001), so it defers. */
function numeric(v: unknown): boolean | typeof DEFER {
  if (typeof v !== 'number' || v !== v) return false;
  return Number.isFinite(v) ? true : DEFER;
}

/** JSONata's fn.boolean (used by ?:, and, or); undefined stays undefined. */
function toBoolean(v: unknown): boolean | undefined | typeof DEFER {
  if (v === undefined) return undefined;
  if (Array.isArray(v)) {
    if (v.length === 1) return toBoolean(v[0]);
    let any = false;
    for (const item of v) {
      const b = toBoolean(item);
      if (b === DEFER) return DEFER;
      if (b) any = true;
    }
    return any;
  }
  if (typeof v === 'string') return v.length > 0;
  const isNum = numeric(v);
  if (isNum === DEFER) return DEFER;
  if (isNum) return v !== 0;
  if (v !== null && typeof v === 'object' && !isJsonataFunction(v)) return Object.keys(v).length > 0;
  return v === true; // booleans; null, NaN, BigInt and functions are false
}

/** JSONata's utils.isDeepEqual, verbatim (it compares arrays and objects by own property names). */
function isDeepEqual(lhs: unknown, rhs: unknown): boolean {
  if (lhs === rhs) return true;
  if (typeof lhs !== 'object' || typeof rhs !== 'object' || lhs === null || rhs === null) return false;
  if (Array.isArray(lhs) && Array.isArray(rhs)) {
    if (lhs.length !== rhs.length) return false;
    for (let i = 0; i < lhs.length; i++) if (!isDeepEqual(lhs[i], rhs[i])) return false;
    return true;
  }
  const lkeys = Object.getOwnPropertyNames(lhs).sort();
  const rkeys = Object.getOwnPropertyNames(rhs).sort();
  if (lkeys.length !== rkeys.length) return false;
  for (let i = 0; i < lkeys.length; i++) if (lkeys[i] !== rkeys[i]) return false;
  const l = lhs as Record<string, unknown>;
  const r = rhs as Record<string, unknown>;
  for (const key of lkeys) if (!isDeepEqual(l[key], r[key])) return false;
  return true;
}

/**
 * JSONata's fn.string for the operands of `&`: strings as is, numbers with at most 15
 * significant digits (so 0.1 + 0.2 gives "0.3"), booleans and null as JSON. Everything else
 * (objects, arrays, BigInt, non-finite numbers) defers to JSONata's own stringify or error.
 */
function scalarText(v: unknown): string | typeof DEFER {
  switch (typeof v) {
    case 'undefined':
      return '';
    case 'string':
      return v;
    case 'number':
      if (!Number.isFinite(v)) return DEFER;
      return String(Number.isInteger(v) ? v : Number(v.toPrecision(15)));
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      return v === null ? 'null' : DEFER;
  }
}

// ---------------------------------------------------------------------------------------------
// Operators: each mirrors the JSONata function named in its comment; DEFER where it would throw.

type BinaryOp = (l: unknown, r: unknown) => unknown;

/** evaluateNumericExpression. */
function arithmetic(op: (l: number, r: number) => number): BinaryOp {
  return (l, r) => {
    if (l !== undefined && numeric(l) !== true) return DEFER; // T2001 (or D1001)
    if (r !== undefined && numeric(r) !== true) return DEFER; // T2002 (or D1001)
    if (l === undefined || r === undefined) return undefined;
    return op(l as number, r as number);
  };
}

/** evaluateComparisonExpression: strings with strings, numbers with numbers, else T2010/T2009. */
function comparison(op: (l: number | string, r: number | string) => boolean): BinaryOp {
  return (l, r) => {
    const lt = typeof l;
    const rt = typeof r;
    if (lt !== 'undefined' && lt !== 'string' && lt !== 'number') return DEFER;
    if (rt !== 'undefined' && rt !== 'string' && rt !== 'number') return DEFER;
    if (lt === 'undefined' || rt === 'undefined') return undefined;
    if (lt !== rt) return DEFER;
    return op(l as number | string, r as number | string);
  };
}

const BINARY: Readonly<Record<string, BinaryOp>> = {
  '+': arithmetic((l, r) => l + r),
  '-': arithmetic((l, r) => l - r),
  '*': arithmetic((l, r) => l * r),
  '/': arithmetic((l, r) => l / r),
  '%': arithmetic((l, r) => l % r),
  // evaluateEqualityExpression: anything undefined makes both = and != false.
  '=': (l, r) => (l === undefined || r === undefined ? false : isDeepEqual(l, r)),
  '!=': (l, r) => (l === undefined || r === undefined ? false : !isDeepEqual(l, r)),
  '<': comparison((l, r) => l < r),
  '<=': comparison((l, r) => l <= r),
  '>': comparison((l, r) => l > r),
  '>=': comparison((l, r) => l >= r),
  // evaluateStringConcat.
  '&': (l, r) => {
    const ls = scalarText(l);
    if (ls === DEFER) return DEFER;
    const rs = scalarText(r);
    return rs === DEFER ? DEFER : ls + rs;
  },
};

// ---------------------------------------------------------------------------------------------
// The compiler.

/** Node properties that carry no meaning for evaluation (parser bookkeeping). */
const INERT_KEYS: ReadonlySet<string> = new Set(['type', 'value', 'position', 'id', 'lbp']);

/**
 * True when the node has no properties beyond the inert ones and `allowed`. Predicates, stages,
 * grouping, keepArray, focus/index binding, ... all show up as extra properties, so anything
 * the compiler does not know about falls back to JSONata instead of being silently ignored.
 */
function plainNode(node: AstNode, ...allowed: string[]): boolean {
  for (const key of Object.keys(node)) {
    if (!INERT_KEYS.has(key) && !allowed.includes(key)) return false;
  }
  return true;
}

/** Compiles the AST to closures, or returns undefined when it uses anything outside the subset. */
export function compileFast(node: AstNode): FastFn | undefined {
  switch (node.type) {
    case 'string':
    case 'number':
    case 'value':
      return plainNode(node) ? constant(node.value) : undefined;
    case 'path':
      return plainNode(node, 'steps') ? compilePath(node.steps ?? []) : undefined;
    case 'binary':
      return plainNode(node, 'lhs', 'rhs') ? compileBinary(node) : undefined;
    case 'unary':
      return compileUnary(node);
    case 'condition':
      return plainNode(node, 'condition', 'then', 'else') ? compileCondition(node) : undefined;
    case 'function':
      // The parser leaves an empty `name` on every call node.
      return plainNode(node, 'procedure', 'arguments', 'name') && (node as { name?: unknown }).name === undefined ? compileCall(node) : undefined;
    case 'block':
      return plainNode(node, 'expressions') ? compileBlock(node.expressions ?? []) : undefined;
    default:
      return undefined; // functions, variables, wildcards, lambdas, regexes, transforms, ...
  }
}

function compileAll(nodes: readonly AstNode[]): FastFn[] | undefined {
  const fns: FastFn[] = [];
  for (const n of nodes) {
    const fn = compileFast(n);
    if (fn === undefined) return undefined;
    fns.push(fn);
  }
  return fns;
}

function constant(value: unknown): FastFn | undefined {
  const t = typeof value;
  if (value !== null && t !== 'string' && t !== 'number' && t !== 'boolean') return undefined;
  return () => value;
}

/**
 * `body.a.b`, `$.body.a`, `$$.body.a`: name steps only. `$` and `$$` are the context itself at
 * every point of the subset, because nothing in it changes the context item.
 */
function compilePath(steps: readonly AstNode[]): FastFn | undefined {
  let start = 0;
  const first = steps[0];
  if (first !== undefined && first.type === 'variable') {
    if ((first.value !== '' && first.value !== '$') || !plainNode(first)) return undefined;
    start = 1;
  }
  const names: string[] = [];
  for (const s of steps.slice(start)) {
    if (s.type !== 'name' || typeof s.value !== 'string' || !plainNode(s)) return undefined;
    names.push(s.value);
  }
  const [head, ...rest] = names;
  if (head === undefined) return undefined; // a bare `$` returns the context itself: leave it to JSONata
  const root = readRoot(head);
  // The common short paths get their own closures; the loop handles the rest.
  switch (rest.length) {
    case 0:
      return (r) => settle(root(r));
    case 1: {
      const k1 = rest[0] as string;
      return (r) => {
        const v = step(root(r), k1);
        return v === DEFER ? DEFER : settle(v);
      };
    }
    default:
      return (r) => {
        let v = root(r);
        for (const key of rest) {
          v = step(v, key);
          if (v === DEFER) return DEFER;
          if (v === undefined) return undefined;
        }
        return settle(v);
      };
  }
}

function compileBinary(node: AstNode): FastFn | undefined {
  const op = node.value;
  if (typeof op !== 'string' || Array.isArray(node.lhs) || node.lhs === undefined || node.rhs === undefined) {
    return undefined;
  }
  const lhs = compileFast(node.lhs as AstNode);
  const rhs = compileFast(node.rhs);
  if (lhs === undefined || rhs === undefined) return undefined;

  // evaluateBooleanExpression: the right side is only evaluated when needed; result is a boolean.
  if (op === 'and' || op === 'or') {
    const decides = op === 'or';
    return (r) => {
      const lv = lhs(r);
      if (lv === DEFER) return DEFER;
      const l = toBoolean(lv);
      if (l === DEFER) return DEFER;
      if (Boolean(l) === decides) return decides;
      const rv = rhs(r);
      if (rv === DEFER) return DEFER;
      const b = toBoolean(rv);
      return b === DEFER ? DEFER : Boolean(b);
    };
  }

  // JSONata evaluates the left side, then the right side, then applies the operator. Deferring
  // as soon as one side defers is safe: JSONata re-evaluates everything anyway.
  const apply = Object.prototype.hasOwnProperty.call(BINARY, op) ? BINARY[op] : undefined;
  if (apply === undefined) return undefined; // `in`, `..`, `~>`, ...
  return (r) => {
    const l = lhs(r);
    if (l === DEFER) return DEFER;
    const rv = rhs(r);
    if (rv === DEFER) return DEFER;
    return apply(l, rv);
  };
}

function compileUnary(node: AstNode): FastFn | undefined {
  switch (node.value) {
    case '-': {
      if (!plainNode(node, 'expression') || node.expression === undefined) return undefined;
      const inner = compileFast(node.expression);
      if (inner === undefined) return undefined;
      // evaluateUnary '-': undefined stays undefined; a non-number is D1002.
      return (r) => {
        const v = inner(r);
        if (v === undefined || v === DEFER) return v;
        return numeric(v) === true ? -(v as number) : DEFER;
      };
    }
    case '[':
      return plainNode(node, 'expressions') ? compileArray(node.expressions ?? []) : undefined;
    case '{':
      return plainNode(node, 'lhs') && Array.isArray(node.lhs) ? compileObject(node.lhs) : undefined;
    default:
      return undefined;
  }
}

/**
 * evaluateUnary '[': undefined items are dropped; an item that is itself an array constructor
 * is kept as one (nested) item; any other array value is spliced in one level (fn.append).
 */
function compileArray(items: readonly AstNode[]): FastFn | undefined {
  const fns = compileAll(items);
  if (fns === undefined) return undefined;
  const nested = items.map((item) => item.value === '['); // JSONata tests exactly this
  return (r) => {
    const out: unknown[] = [];
    for (let i = 0; i < fns.length; i++) {
      const v = (fns[i] as FastFn)(r);
      if (v === DEFER) return DEFER;
      if (v === undefined) continue;
      if (Array.isArray(v) && !nested[i]) {
        for (const x of v) out.push(x);
      } else {
        out.push(v);
      }
    }
    return out;
  };
}

/**
 * evaluateGroupExpression with literal string keys: each value is evaluated against the
 * context and undefined values are dropped. Keys JSONata treats specially (a repeated key is
 * D1009, JSONata's internal marks are D1013) and `__proto__` (which would set the prototype of
 * a plain object) are left to JSONata.
 */
function compileObject(pairs: readonly (readonly [AstNode, AstNode])[]): FastFn | undefined {
  const keys: string[] = [];
  for (const [key] of pairs) {
    if (key.type !== 'string' || typeof key.value !== 'string' || !plainNode(key)) return undefined;
    if (keys.includes(key.value)) return undefined;
    if (key.value === '__proto__' || key.value === '_jsonata_function' || key.value === '_jsonata_lambda') {
      return undefined;
    }
    keys.push(key.value);
  }
  const fns = compileAll(pairs.map(([, value]) => value));
  if (fns === undefined) return undefined;
  return (r) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < fns.length; i++) {
      const v = (fns[i] as FastFn)(r);
      if (v === DEFER) return DEFER;
      if (v !== undefined) out[keys[i] as string] = v;
    }
    return out;
  };
}

/** evaluateCondition: `a ? b : c`, `a ? b` and the parser's expansion of `a ?: b`. */
function compileCondition(node: AstNode): FastFn | undefined {
  if (node.condition === undefined || node.then === undefined) return undefined;
  const test = compileFast(node.condition);
  const then = compileFast(node.then);
  const otherwise = node.else === undefined ? () => undefined : compileFast(node.else);
  if (test === undefined || then === undefined || otherwise === undefined) return undefined;
  return (r) => {
    const c = test(r);
    if (c === DEFER) return DEFER;
    const b = toBoolean(c);
    if (b === DEFER) return DEFER;
    return b ? then(r) : otherwise(r);
  };
}

/** evaluateBlock: `(a)` or `(a; b)`; without bindings it is just "the last value". */
function compileBlock(items: readonly AstNode[]): FastFn | undefined {
  const fns = compileAll(items);
  if (fns === undefined) return undefined;
  if (fns.length === 1) return fns[0];
  return (r) => {
    let v: unknown;
    for (const fn of fns) {
      v = fn(r);
      if (v === DEFER) return DEFER;
    }
    return v;
  };
}

// ---------------------------------------------------------------------------------------------
// Built-in functions: the one-argument string and existence functions flows use on the hot path.

/** JSONata's number() accepts JSON number syntax in strings (other forms defer). */
const JSON_NUMBER = /^-?(0|([1-9][0-9]*))(\.[0-9]+)?([Ee][-+]?[0-9]+)?$/;

/**
 * Each mirrors the JSONata function of the same name for an argument it is sure of, and DEFERs
 * for anything else (where JSONata's signature check would coerce or raise T0410/D3030).
 */
const FUNCTIONS: Record<string, (v: unknown) => unknown> = {
  length: (v) => (v === undefined ? undefined : typeof v === 'string' ? codePoints(v) : DEFER),
  uppercase: (v) => (v === undefined ? undefined : typeof v === 'string' ? v.toUpperCase() : DEFER),
  lowercase: (v) => (v === undefined ? undefined : typeof v === 'string' ? v.toLowerCase() : DEFER),
  exists: (v) => (isJsonataFunction(v) ? DEFER : v !== undefined),
  not: (v) => {
    if (v === undefined) return undefined;
    if (isJsonataFunction(v)) return DEFER;
    const b = toBoolean(v);
    return b === DEFER ? DEFER : !b;
  },
  boolean: (v) => toBoolean(v),
  string: (v) => (v === undefined ? undefined : typeof v === 'object' && v !== null ? DEFER : scalarText(v)),
  number: (v) => {
    if (v === undefined) return undefined;
    if (typeof v === 'number') return Number.isFinite(v) ? v : DEFER;
    return typeof v === 'string' && JSON_NUMBER.test(v) && Number.isFinite(Number(v)) ? Number(v) : DEFER;
  },
  count: (v) => (v === undefined ? 0 : Array.isArray(v) && (v as { sequence?: unknown }).sequence !== true ? v.length : DEFER),
};

/** JSONata's stringToArray: a string's length counts code points, not UTF-16 units. */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `$name(arg)` with one argument, for the functions above; anything else goes to JSONata. */
function compileCall(node: AstNode): FastFn | undefined {
  const proc = node.procedure;
  const args = node.arguments ?? [];
  if (!proc || proc.type !== 'variable' || !plainNode(proc) || typeof proc.value !== 'string' || args.length !== 1) return undefined;
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, proc.value) ? FUNCTIONS[proc.value] : undefined;
  const arg = compileFast(args[0] as AstNode);
  if (!fn || !arg) return undefined;
  return (r) => {
    const v = arg(r);
    return v === DEFER ? DEFER : fn(v);
  };
}
