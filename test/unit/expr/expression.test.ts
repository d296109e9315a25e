import { test } from 'node:test';
import assert from 'node:assert/strict';
import jsonata from 'jsonata';
import { WeftError } from '../../../runtime/errors.ts';
import { compileExpression, type Expression } from '../../../runtime/expr/expression.ts';

// ---------------------------------------------------------------------------------------------
// Differential conformance: every (expression, context) pair must give exactly what JSONata
// gives, whether the fast closures answer or the expression defers to JSONata.

/** Expressions in the compiled subset: each must compile with fast === true. */
const FAST: readonly string[] = [
  // paths
  'body', 'body.a', 'body.b', 'body.a.b', 'body.a.b.c', 'body.missing', 'body.missing.deeper',
  '$.body.a', '$$.body.b', '$.body', 'vars.stock.available', 'params.customer',
  'headers.`content-type`', 'body.`weird key`', 'body.a.`x-y`', 'query.page', 'env.REGION',
  'flow.name', 'error', 'nothere', 'body."a"', 'body.constructor', 'body.a.toString', 'body.a.length',
  // literals
  '"hello"', '42', '-3.5', 'true', 'false', 'null', '""',
  // object constructors
  '{"id": body.id, "total": body.qty * body.price}', '{"a": body.a, "b": body.b, "m": body.missing}',
  '{"nested": {"x": body.a, "y": [body.b]}}', '{}', '{"1": body.a, "b": 2, "0": body.b}', '{"ab": body.a.b}',
  // array constructors
  '[body.a, body.b]', '[body.a]', '[[body.a], body.b]', '[1, [2, 3], body.missing, [], [[]]]', '[]',
  '[body.a.b]', '[body, body.a]', '[(body.a)]', '[[body.a.b]]',
  // comparisons
  'body.a = body.b', 'body.a != body.b', 'body.a < body.b', 'body.a <= 1', 'body.a > "m"',
  'body.a >= body.b', 'body = body', 'body.a = [1, 2]', '{"x": body.a} = {"x": body.a}', 'body.a = null',
  'body.missing = body.missing', 'body.missing != 1', 'body.a = body.a',
  // arithmetic
  'body.a + body.b', 'body.a - 1', 'body.a * body.b', 'body.a / body.b', 'body.a % body.b', '-body.a',
  'body.qty * body.price', '(body.a + 1) * 2', 'body.a / 0', '-(body.a / body.b)', '(body.a / 0) + 1',
  // string concatenation
  'body.a & body.b', '"x" & body.a', 'body.a & ""', 'body.a & 1.5 & true & null', 'body.a / 3 & ""',
  // and / or
  'body.a and body.b', 'body.a or body.b', 'body.a > 1 and body.b', 'body.missing or body.a',
  'body.a and body.a.b',
  // conditionals
  'body.a ? "yes" : "no"', 'body.a ? body.b', 'body.a > 1 ? body.a : body.b', 'body.a ?: "default"',
  'body.b ? {"v": body.b} : [body.a]', '[1 / 0] ? 1 : 2',
  // blocks
  '(body.a)', '(body.a; body.b)', '()',
];

/** Expressions outside the subset: fast === false, JSONata evaluates, results still normalised. */
const SLOW: readonly string[] = [
  '$uppercase(body.a)', '$string(body.a)', 'body.a[0]', 'body.a[b > 1]', '$count(body.a)', 'body.*', '**.c',
  'body.a in [1, 2]', '$', '$x', 'body.a ?? "d"', 'body.{"k": a}', 'body.a[]', '$sum(body.a)', '{body.a: 1}',
  '{"a": 1, "a": 2}', '{"__proto__": body.a}', 'body.(a & b)', '$exists(body.a)', '[1..3]', 'body.a ~> $type()',
];

const BODIES: readonly unknown[] = [
  { a: 1, b: 2 },
  { a: 0.1, b: 0.2 },
  { a: 0, b: 0 },
  { a: -5, b: 3 },
  { a: 'x', b: 'y' },
  { a: '1', b: 1 },
  { a: '', b: ' ' },
  { a: true, b: false },
  { a: null, b: null },
  {},
  { a: [1, 2], b: [3] },
  { a: [], b: [] },
  { a: [5], b: ['5'] },
  { a: { b: { c: 1 } }, b: { c: 2 } },
  { a: [{ b: 1 }, { b: { c: 2 } }, { c: 3 }], b: [{ c: 1 }] },
  { a: [[1, 2], [3]], b: [[{ c: 1 }], [{ c: 2 }]] },
  { a: {}, b: { c: null } },
  { a: 2n ** 70n, b: 1 },
  { a: 1, b: 'x' },
  [1, 2, 3],
  [{ a: 1 }, { a: 2, b: 3 }],
  'text',
  null,
  42,
  { id: 'A-1', sku: 'S1', qty: 2, price: 9.99, items: [{ sku: 'x', price: 1 }], flag: true, a: 3, b: 4 },
  { 'weird key': 1, a: { 'x-y': 2 }, b: 0 },
  { a: { b: [1, 2] }, b: { b: [3] } },
  { a: { b: [] }, b: { b: [[]] } },
  { a: { x: [1, { y: 2 }] }, b: { x: [1, { y: 2 }] } },
  { a: [1, 'a', true, null], b: [{}] },
  { a: { b: 'str' }, b: { b: 7 } },
  { a: { _jsonata_function: true, b: 1 }, b: 1 },
  { a: 1e300, b: 1e300 },
  // JSONata's deep equality compares own property names, so an array's `length` counts.
  { a: [], b: {} },
  { a: [1], b: { 0: 1, length: 1 } },
];

const BASE = {
  headers: { 'content-type': 'application/json' },
  params: { customer: 'c-42' },
  query: { page: '2' },
  vars: { stock: { available: 7 } },
  env: { REGION: 'eu' },
  error: undefined,
  flow: { name: 'orders' },
};

/** Plain contexts, as JSONata reads them. The last one has nothing but a body. */
const CONTEXTS: readonly Record<string, unknown>[] = [...BODIES.map((body) => ({ ...BASE, body })), { body: { a: 1 } }];

/** The runtime's context shape: `body` is a getter on the prototype, the rest own fields. */
class ClassContext {
  readonly #body: unknown;
  headers: unknown;
  params: unknown;
  query: unknown;
  vars: unknown;
  env: unknown;
  error: unknown;
  flow: unknown;
  constructor(plainCtx: Record<string, unknown>) {
    this.#body = plainCtx.body;
    this.headers = plainCtx.headers;
    this.params = plainCtx.params;
    this.query = plainCtx.query;
    this.vars = plainCtx.vars;
    this.env = plainCtx.env;
    this.error = plainCtx.error;
    this.flow = plainCtx.flow;
  }
  get body(): unknown {
    return this.#body;
  }
}

/** A deep copy with ordinary prototypes and no JSONata markers: what callers must receive. */
function plainCopy(v: unknown): unknown {
  if (Array.isArray(v)) return Array.from(v, plainCopy);
  if (typeof v !== 'object' || v === null) return v;
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto !== null && proto !== Object.prototype) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    Object.defineProperty(out, k, { value: plainCopy(x), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

type Outcome = { ok: true; value: unknown; sync: boolean } | { ok: false; error: unknown; sync: boolean };

async function reference(source: string, ctx: object): Promise<Outcome> {
  try {
    return { ok: true, value: await jsonata(source).evaluate(ctx), sync: false };
  } catch (error) {
    return { ok: false, error, sync: false };
  }
}

async function actual(expr: Expression, ctx: object): Promise<Outcome> {
  let sync = true;
  try {
    let value = expr.evaluate(ctx);
    if (value instanceof Promise) {
      sync = false;
      value = await value;
    }
    return { ok: true, value, sync };
  } catch (error) {
    return { ok: false, error, sync };
  }
}

/** Empty when `got` matches JSONata's `want`; otherwise a description of the difference. */
function compare(source: string, got: Outcome, want: Outcome, ctxFor: { plain: object; given: object }): string {
  if (!want.ok) {
    const w = want.error as { code?: string; message?: string };
    if (got.ok) return `expected JSONata error ${w.code ?? w.message}, got ${String(got.value)}`;
    const e = got.error;
    if (!(e instanceof WeftError) || e.code !== 'EXPRESSION') return `expected WeftError EXPRESSION, got ${String(e)}`;
    const mark = w.code === undefined ? String(w.message) : `(JSONata ${w.code}) in \`${source}\``;
    return e.message.includes(mark) ? '' : `error message ${JSON.stringify(e.message)} lacks ${JSON.stringify(mark)}`;
  }
  if (!got.ok) return `expected a value, got error ${String(got.error)}`;
  // `$` is the context itself: the caller's own object comes back.
  if (want.value === ctxFor.plain) return got.value === ctxFor.given ? '' : 'expected the context object itself';
  try {
    assert.deepStrictEqual(got.value, plainCopy(want.value));
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

async function conformance(source: string): Promise<{ expr: Expression; syncAnswers: number }> {
  const expr = compileExpression(source);
  const failures: string[] = [];
  let syncAnswers = 0;
  for (const ctx of CONTEXTS) {
    const want = await reference(source, ctx);
    for (const given of [ctx, new ClassContext(ctx)]) {
      const got = await actual(expr, given);
      if (got.sync && got.ok) syncAnswers++;
      const problem = compare(source, got, want, { plain: ctx, given });
      if (problem !== '') {
        const label = given === ctx ? 'plain' : 'class';
        failures.push(`${label} body=${inspectBody(ctx.body)}: ${problem}`);
      }
    }
  }
  assert.deepEqual(failures, [], `\`${source}\` differs from JSONata`);
  return { expr, syncAnswers };
}

function inspectBody(body: unknown): string {
  return JSON.stringify(body, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? 'undefined';
}

test(`conformance table: ${FAST.length + SLOW.length} expressions x ${CONTEXTS.length} contexts x 2 context shapes`, () => {
  assert.ok((FAST.length + SLOW.length) * CONTEXTS.length > 300);
});

for (const source of FAST) {
  test(`fast conforms: ${source}`, async () => {
    const { expr, syncAnswers } = await conformance(source);
    assert.equal(expr.fast, true, 'compiled to closures');
    // The closures really answer (synchronously) for at least one context, unless the
    // expression fails for every input (JSONata then produces the error).
    if (source !== '[1 / 0] ? 1 : 2') assert.ok(syncAnswers > 0, 'fast path answered synchronously at least once');
  });
}

for (const source of SLOW) {
  test(`fallback conforms: ${source}`, async () => {
    const { expr } = await conformance(source);
    assert.equal(expr.fast, false);
  });
}

// ---------------------------------------------------------------------------------------------
// The fast path answers synchronously whenever no array, error or BigInt arithmetic is met.

test('simple expressions answer synchronously with plain values', () => {
  const ctx = { ...BASE, body: { id: 'A-1', qty: 2, price: 9.99, items: [1, 2], tags: { x: 1 } } };
  const cases: [string, unknown][] = [
    ['{"id": body.id, "total": body.qty * body.price}', { id: 'A-1', total: 19.98 }],
    ['body.items', [1, 2]],
    ['[body.items, 3]', [1, 2, 3]],
    ['[[body.items], 3]', [[1, 2], 3]],
    ['vars.stock.available > 5 ? "plenty" : "few"', 'plenty'],
    ['params.customer & "/" & body.qty', 'c-42/2'],
    ['body.tags = {"x": 1}', true],
    ['body.missing', undefined],
    ['{"m": body.missing, "n": null}', { n: null }],
  ];
  for (const [source, want] of cases) {
    const result = compileExpression(source).evaluate(ctx);
    assert.ok(!(result instanceof Promise), `${source} answered synchronously`);
    assert.deepStrictEqual(result, want, source);
  }
  // The path result is the input's own array, as with JSONata.
  assert.equal(compileExpression('body.items').evaluate(ctx), ctx.body.items);
});

test('arrays met along a path defer to JSONata and come back as plain arrays', async () => {
  const ctx = { body: { a: [{ b: 1 }, { b: 2 }] } };
  const expr = compileExpression('{"x": body.a.b}');
  assert.equal(expr.fast, true);
  const pending = expr.evaluate(ctx);
  assert.ok(pending instanceof Promise);
  const result = (await pending) as { x: number[] };
  assert.deepStrictEqual(result, { x: [1, 2] });
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyNames(result.x), ['0', '1', 'length']);
});

test('JSONata-built objects become ordinary objects, even with a __proto__ key', async () => {
  const result = (await compileExpression('{"__proto__": body.a, "k": [$.[1, 2]]}').evaluate({ body: { a: 1 } })) as object;
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.ok(Object.prototype.hasOwnProperty.call(result, '__proto__'));
  assert.deepEqual(Object.getOwnPropertyDescriptor(result, '__proto__')?.value, 1);
  assert.deepStrictEqual((result as { k: unknown }).k, [1, 2]);
});

test('a body getter on the prototype is read by both paths, lazily by JSONata', async () => {
  let reads = 0;
  class Lazy {
    params = { customer: 'c-1' };
    get body(): unknown {
      reads++;
      return { sku: 'S9' };
    }
  }
  const ctx = new Lazy();
  assert.equal(compileExpression('body.sku').evaluate(ctx), 'S9');
  assert.equal(await compileExpression('$lowercase(body.sku)').evaluate(ctx), 's9');
  reads = 0;
  assert.equal(await compileExpression('$uppercase(params.customer)').evaluate(ctx), 'C-1');
  assert.equal(reads, 0, 'JSONata did not touch the body it does not use');
  assert.equal(await compileExpression('$').evaluate(ctx), ctx, '`$` is the caller context');
});

test('errors thrown by a context getter pass through unchanged', async () => {
  const boom = new WeftError('MALFORMED_BODY', 'bad json');
  const ctx = Object.create({
    get body(): unknown {
      throw boom;
    },
  }) as object;
  assert.throws(() => compileExpression('body.a').evaluate(ctx), (e) => e === boom);
  await assert.rejects(async () => compileExpression('$string(body.a)').evaluate(ctx), (e) => e === boom);
});

// ---------------------------------------------------------------------------------------------
// Numbers.

test('BigInt: path access returns it unchanged; arithmetic and ordering defer and fail clearly', async () => {
  const big = 2n ** 70n;
  const ctx = { body: { n: big, m: { n: big } } };
  assert.equal(compileExpression('body.n').evaluate(ctx), big);
  assert.deepStrictEqual(compileExpression('{"v": body.m.n, "w": [body.n]}').evaluate(ctx), { v: big, w: [big] });
  assert.equal(compileExpression('body.n = body.m.n').evaluate(ctx), true);
  for (const [source, code] of [['body.n + 1', 'T2001'], ['1 * body.n', 'T2002'], ['body.n < 1', 'T2010']] as const) {
    const result = compileExpression(source).evaluate(ctx);
    assert.ok(result instanceof Promise, `${source} defers to JSONata`);
    await assert.rejects(result, (e: unknown) => {
      assert.ok(e instanceof WeftError);
      assert.equal(e.code, 'EXPRESSION');
      assert.match(e.message, new RegExp(`\\(JSONata ${code}\\) in \``));
      assert.match(e.message, /BigInt/);
      return true;
    });
  }
  await assert.rejects(async () => compileExpression('body.n & ""').evaluate(ctx), (e: unknown) => {
    assert.ok(e instanceof WeftError && e.code === 'EXPRESSION');
    assert.match(e.message, /BigInt/);
    return true;
  });
});

test('non-finite numbers: division by zero gives Infinity as in JSONata; using it is D1001', async () => {
  const ctx = { body: { a: 1 } };
  assert.equal(compileExpression('body.a / 0').evaluate(ctx), Infinity);
  assert.equal(await jsonata('body.a / 0').evaluate(ctx), Infinity);
  await assert.rejects(async () => compileExpression('(body.a / 0) + 1').evaluate(ctx), /Number out of range: Infinity \(JSONata D1001\) in `\(body.a \/ 0\) \+ 1`$/);
  await assert.rejects(async () => compileExpression('(body.a / 0) & ""').evaluate(ctx), /\(JSONata D3001\)/);
});

test('string concatenation writes numbers as JSONata does (15 significant digits)', () => {
  assert.equal(compileExpression('body.a + body.b & ""').evaluate({ body: { a: 0.1, b: 0.2 } }), '0.3');
  assert.equal(compileExpression('body.a & ""').evaluate({ body: { a: 1e21 } }), '1e+21');
});

// ---------------------------------------------------------------------------------------------
// Errors.

test('run-time errors are WeftError EXPRESSION with the JSONata message, code and source', async () => {
  const source = 'body.a + 1';
  await assert.rejects(async () => compileExpression(source).evaluate({ body: { a: 'x' } }), (e: unknown) => {
    assert.ok(e instanceof WeftError);
    assert.equal(e.code, 'EXPRESSION');
    assert.equal(e.message, 'The left side of the "+" operator must evaluate to a number (JSONata T2001) in `body.a + 1`');
    return true;
  });
});

test('syntax errors are FLOW_EXPRESSION with the offset of the offending token', () => {
  const cases: [string, number, RegExp][] = [
    ['body.sku +', 10, /Unexpected end of expression \(JSONata S0207\)/],
    ['{"a": 1', 7, /Expected "}" before end of expression/],
    ['a = = b', 4, /"=" cannot be used as a unary operator/],
    ['body..x', 4, /Syntax error: "\.\."/],
    ['body.sku ]', 9, /Syntax error: "]"/],
    ['{"a" 1}', 5, /Expected ":", got 1/],
    ['', 0, /Unexpected end of expression/],
    ['/* open', 0, /Comment has no closing tag/],
  ];
  for (const [source, position, message] of cases) {
    assert.throws(
      () => compileExpression(source),
      (e: unknown) => {
        assert.ok(e instanceof WeftError, source);
        assert.equal(e.code, 'FLOW_EXPRESSION', source);
        assert.deepEqual(e.details, { position }, source);
        assert.match(e.message, message, source);
        assert.ok(e.message.includes(`\`${source}\``), source);
        return true;
      },
    );
  }
});
