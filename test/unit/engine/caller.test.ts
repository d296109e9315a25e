/**
 * The verified caller on the exchange: expressions read its claims and scopes on both the fast
 * path and JSONata's, forks share it, and the token it holds is visible to nothing: not to an
 * expression (JSONata can call functions it finds), not to JSON (log lines).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Caller } from '../../../runtime/engine/caller.ts';
import { Exchange } from '../../../runtime/engine/exchange.ts';
import { compileExpression } from '../../../runtime/expr/expression.ts';
import { silentLogger } from '../../../runtime/log.ts';

const TOKEN = 'eyJ.secret-token.sig';

function exchange(): Exchange {
  const ex = new Exchange({ id: 'r1', log: silentLogger(), env: {}, flow: { name: 'f' } });
  ex.auth = new Caller('jwt', { sub: 'ada', scope: 'a b', nested: { tenant: 't1' } }, ['a', 'b'], () => TOKEN);
  return ex;
}

describe('auth in expressions', () => {
  it('reads claims and scopes on the fast path and through JSONata alike', async () => {
    const ex = exchange();
    const fast = compileExpression('auth.claims.nested.tenant');
    assert.equal(fast.fast, true);
    assert.equal(await fast.evaluate(ex), 't1');
    const slow = compileExpression("'b' in auth.scopes and $substring(auth.claims.sub, 0, 1) = 'a'");
    assert.equal(slow.fast, false);
    assert.equal(await slow.evaluate(ex), true);
    assert.equal(await compileExpression('auth.scheme').evaluate(ex), 'jwt');
  });

  it('is undefined without auth, and shared with forks', async () => {
    const bare = new Exchange({ id: 'r2', log: silentLogger(), env: {}, flow: { name: 'f' } });
    assert.equal(await compileExpression('auth.claims.sub').evaluate(bare), undefined);
    const ex = exchange();
    const child = ex.fork({ vars: {}, cancel: undefined, deadline: undefined });
    assert.equal(child.auth, ex.auth);
  });

  it('never shows the token: not to expressions, not in JSON', async () => {
    const ex = exchange();
    for (const source of ['auth', 'auth.bearerToken', '$string(auth)', '$keys(auth)']) {
      const value = await compileExpression(source).evaluate(ex);
      assert.ok(!JSON.stringify(value ?? null).includes('secret-token'), source);
    }
    await assert.rejects(async () => compileExpression('auth.bearerToken()').evaluate(ex));
    assert.ok(!JSON.stringify(ex.auth).includes('secret-token'));
    assert.equal(await ex.auth!.bearerToken(), TOKEN);
  });
});
