import assert from 'node:assert/strict';
import { test } from 'node:test';
import jsonata from 'jsonata';
import { compileExpression } from '../../../runtime/expr/expression.ts';
import { parseSimplePath } from '../../../runtime/expr/jsonata-lazy.ts';

// The fast path compiles what parseSimplePath returns exactly as it compiles JSONata's AST, so
// the two must be the same tree (expression.test.ts then checks the answers against JSONata).
const PATHS = ['a', 'params.id', 'body.customer.name', ' body.x ', '\tvars.total\n', '_x.y_1', 'body.index', 'body.andy', 'headers.Authorization', 'A.B.C.D.E'];
// Not plain paths: JSONata's own parser decides (operators, values, variables, spaces around dots, ...).
const OTHERS = ['', ' ', 'and', 'true', 'null', 'a.or', 'body.in', 'a.function', 'a.b[0]', '$x', '$.a', 'a . b', 'a.', '.a', 'a..b', '1a', 'a-b', '`a b`.c', 'a.b.c()', 'a /* c */', 'a&b', 'é.x'];

test('plain field paths parse to the very AST JSONata produces', () => {
  for (const source of PATHS) {
    assert.deepEqual(parseSimplePath(source), jsonata(source).ast(), source);
  }
});

test('anything but a plain field path is left to JSONata', () => {
  for (const source of OTHERS) assert.equal(parseSimplePath(source), undefined, source);
});

test('a plain path is fast, and defers to JSONata (loaded then) for arrays along the way', async () => {
  const expr = compileExpression('body.items.sku');
  assert.equal(expr.fast, true);
  assert.equal(expr.evaluate({ body: { items: { sku: 'a' } } }), 'a');
  assert.deepEqual(await expr.evaluate({ body: { items: [{ sku: 'a' }, { sku: 'b' }] } }), ['a', 'b']);
});
