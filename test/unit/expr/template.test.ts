import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WeftError } from '../../../runtime/errors.ts';
import { compileTemplate } from '../../../runtime/expr/template.ts';

const ctx = {
  body: {
    id: 'A-1',
    qty: 3,
    price: 0.1,
    ok: true,
    none: null,
    big: 2n ** 70n,
    obj: { a: 1, f: 0.1 + 0.2, big: 2n ** 64n, s: 'x"y' },
    list: [1, 'two', null],
    items: [{ sku: 'a' }, { sku: 'b' }],
    path: 'a b/c?d',
  },
  params: { customer: 'c 42' },
};

/** Renders and awaits, for tests that do not care whether the answer was synchronous. */
async function render(source: string, escape?: (s: string) => string): Promise<string> {
  return await compileTemplate(source).render(ctx, escape);
}

test('templates without ${} parts are constant', () => {
  for (const [source, text] of [
    ['hello', 'hello'],
    ['', ''],
    ['cost: $5 and $ {x}', 'cost: $5 and $ {x}'],
    ['a $${b} c', 'a ${b} c'],
    ['$${', '${'],
  ] as const) {
    const t = compileTemplate(source);
    assert.equal(t.constant, text, source);
    assert.equal(t.render(ctx), text, source);
    assert.equal(t.source, source);
  }
  assert.equal(compileTemplate('x ${body.id}').constant, undefined);
});

test('interpolated values: strings as is, numbers, booleans and BigInt as text, nothing for null/undefined', async () => {
  assert.equal(await render('${body.id}|${body.qty}|${body.ok}|${body.big}|${body.none}|${body.missing}|'), `A-1|3|true|${2n ** 70n}|||`);
  assert.equal(await render('${body.qty * body.price}'), '0.3', 'numbers as JSONata writes them (15 digits)');
  assert.equal(await render('${-body.qty / 4}'), '-0.75');
  assert.equal(await render('${1e21}'), '1e+21');
});

test('objects and arrays render as JSON, BigInt with its exact digits', async () => {
  assert.equal(await render('${body.obj}'), `{"a":1,"f":0.3,"big":${2n ** 64n},"s":"x\\"y"}`);
  assert.equal(await render('${body.list}'), '[1,"two",null]');
  assert.equal(await render('${[]}|${{}}'), '[]|{}');
  assert.equal(await render('${body.items.sku}'), '["a","b"]', 'a JSONata sequence renders as an array');
});

test('escape applies to interpolated text only, never to the literal parts', async () => {
  assert.equal(await render('/a b/${body.path}/${params.customer}?q=${body.obj}', encodeURIComponent),
    `/a b/a%20b%2Fc%3Fd/c%2042?q=${encodeURIComponent(`{"a":1,"f":0.3,"big":${2n ** 64n},"s":"x\\"y"}`)}`);
  assert.equal(await render('${$uppercase(body.path)}!', encodeURIComponent), 'A%20B%2FC%3FD!');
  assert.equal(await render('${body.missing}', () => 'escaped'), 'escaped', 'escape sees the empty text too');
});

test('fast templates render synchronously; others return a Promise', async () => {
  const fast = compileTemplate('/orders/${body.id}/lines/${body.qty + 1}');
  const value = fast.render(ctx);
  assert.equal(typeof value, 'string');
  assert.equal(value, '/orders/A-1/lines/4');

  const slow = compileTemplate('a${body.id}b${$substring(body.id, 1)}c${body.qty}d');
  const pending = slow.render(ctx);
  assert.ok(pending instanceof Promise);
  assert.equal(await pending, 'aA-1b-1c3d');

  // A fast expression that meets an array along its path needs JSONata for this input.
  const deferred = compileTemplate('${body.items.sku}').render(ctx);
  assert.ok(deferred instanceof Promise);
});

test('the scanner skips braces inside strings, names, comments and regexes', async () => {
  const cases: [string, string][] = [
    ['${ {"a": "}"}.a }', '}'],
    ["${ {'a': '}{'}.a }!", '}{!'],
    ['${ {"a": {"b": 1}}.a.b }', '1'],
    ['${ {"a": "\\"}"}.a }', '"}'],
    ['<${ body.`}` }>', '<>'],
    ['${ /* } */ body.id }', 'A-1'],
    ['${ $replace("a}b", /\\}/, "-") }', 'a-b'],
    ['${ $replace("aab", /a{2}/, "-") }', '-b'],
    ['${ body.qty / 3 } and ${ body.qty / 3 }', '1 and 1'],
    // After `and` a `/` starts a regex (a function value, so false), not a division.
    ['${ true and /\\}/ ? "re" : "no" }', 'no'],
    ['${body.id}${body.id}', 'A-1A-1'],
    ['$${body.id} = ${body.id}', '${body.id} = A-1'],
  ];
  for (const [source, want] of cases) assert.equal(await render(source), want, source);
});

test('syntax errors are FLOW_EXPRESSION with the offset in the template', () => {
  const cases: [string, number, RegExp][] = [
    ['abc ${ body.x + } d', 16, /Unexpected end of expression \(JSONata S0207\) at offset 16/],
    ['abc ${ body.x', 4, /`\$\{` at offset 4 has no matching `\}`/],
    ['x ${}', 4, /Unexpected end of expression/],
    ['${a} ${ "open }', 5, /no matching/],
    ['ok ${ a = = b }', 10, /"=" cannot be used as a unary operator/],
  ];
  for (const [source, position, message] of cases) {
    assert.throws(
      () => compileTemplate(source),
      (e: unknown) => {
        assert.ok(e instanceof WeftError, source);
        assert.equal(e.code, 'FLOW_EXPRESSION', source);
        assert.deepEqual(e.details, { position }, source);
        assert.match(e.message, message, source);
        assert.ok(e.message.startsWith(`Invalid template \`${source}\``), e.message);
        return true;
      },
    );
  }
});

test('run-time failures are WeftError EXPRESSION, thrown or rejected', async () => {
  assert.throws(() => compileTemplate('n=${body.qty / 0}').render(ctx), (e: unknown) => {
    assert.ok(e instanceof WeftError && e.code === 'EXPRESSION');
    assert.match(e.message, /Infinity.*D3001.*`body.qty \/ 0`/);
    return true;
  });
  await assert.rejects(async () => compileTemplate('${body.id + 1}').render(ctx), (e: unknown) => {
    assert.ok(e instanceof WeftError && e.code === 'EXPRESSION');
    assert.match(e.message, /\(JSONata T2001\) in `body.id \+ 1`/);
    return true;
  });
  // A later failure after an asynchronous part rejects the one Promise (no stray rejections).
  await assert.rejects(async () => compileTemplate('${$string(body.id)}${body.id + 1}').render(ctx), /T2001/);
});
