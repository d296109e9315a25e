/**
 * The JSON codec writes integers beyond 2^53 as their exact digits, whatever came before: it
 * switches between the plain call and the BigInt replacer as values with and without BigInt
 * alternate.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJson, stringifyJson } from '../../../runtime/codecs/json.ts';

describe('json codec: BigInt', () => {
  it('writes exact digits in any order of values with and without BigInt', () => {
    const big = { id: 9007199254740993n, list: [1, -18446744073709551615n], s: 'x' };
    const plain = { id: 5, list: [1, 2], s: 'x' };
    for (const v of [plain, big, big, plain, plain, big, plain]) {
      const text = stringifyJson(v);
      assert.equal(text, v === big ? '{"id":9007199254740993,"list":[1,-18446744073709551615],"s":"x"}' : '{"id":5,"list":[1,2],"s":"x"}');
      assert.deepEqual(parseJson(text), v);
    }
  });

  it('still refuses what JSON cannot hold', () => {
    const circular: Record<string, unknown> = { id: 1n };
    circular.self = circular;
    assert.throws(() => stringifyJson(circular), { code: 'ENCODE' });
    assert.throws(() => stringifyJson([3n, { toJSON: () => { throw new Error('no'); } }]), { code: 'ENCODE', message: /no/ });
  });
});
