import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cancellation } from '../../../runtime/engine/cancellation.ts';
import { fanOut } from '../../../runtime/engine/fan-out.ts';
import { WeftError } from '../../../runtime/errors.ts';

const all = { concurrency: Infinity, settle: false, cancel: undefined };
const cancelled = (cancel: Cancellation): Promise<unknown> => new Promise((resolve) => cancel.listen({ cancelled: resolve }));

describe('fanOut', () => {
  it('returns results in index order, whether a piece answers synchronously or later', async () => {
    const results = await fanOut(3, all, (i) => (i === 1 ? 'sync' : sleep(i === 0 ? 20 : 1, `late ${i}`)));
    assert.deepEqual(results, ['late 0', 'sync', 'late 2']);
    assert.deepEqual(await fanOut(0, all, () => 'never'), []);
  });

  it('fails fast: the first failure aborts the siblings, which are awaited before it is thrown', async () => {
    let siblingSettled = false;
    const failing = fanOut(2, all, async (i, cancel) => {
      if (i === 0) throw new WeftError('UPSTREAM_STATUS', 'first');
      const reason = await cancelled(cancel);
      assert.equal((reason as WeftError).message, 'first');
      await sleep(5);
      siblingSettled = true;
      throw new WeftError('ABORTED', 'second');
    });
    await assert.rejects(failing, (e: WeftError) => e.code === 'UPSTREAM_STATUS');
    assert.equal(siblingSettled, true);
  });

  it('a synchronous throw counts as that piece failing', async () => {
    await assert.rejects(
      fanOut(2, all, (i) => {
        if (i === 1) throw new WeftError('VALIDATION', 'sync');
        return 1;
      }),
      (e: WeftError) => e.code === 'VALIDATION',
    );
  });

  it('settle records failures in place', async () => {
    const results = await fanOut(2, { ...all, settle: true }, (i) => (i === 0 ? Promise.reject(new WeftError('TIMEOUT', 'slow')) : 'ok'));
    assert.deepEqual(results, [{ error: { code: 'TIMEOUT', message: 'slow', status: 504 } }, 'ok']);
  });

  it('a parent abort fails the group with ABORTED', async () => {
    const parent = new Cancellation();
    const running = fanOut(2, { ...all, settle: true, cancel: parent }, (_i, cancel) => cancelled(cancel));
    parent.abort(new Error('gone'));
    await assert.rejects(running, (e: WeftError) => e.code === 'ABORTED');
  });

  it('a finished group no longer listens to its parent', async () => {
    const parent = new Cancellation();
    let heard = 0;
    await fanOut(2, { ...all, cancel: parent }, (_i, cancel) => {
      cancel.listen({ cancelled: () => heard++ });
      return 1;
    });
    parent.abort(new Error('later'));
    assert.equal(heard, 0);
  });

  it('bounded: never more than `concurrency` at once, and a long run of synchronous pieces does not grow the stack', async () => {
    let running = 0;
    let most = 0;
    const results = await fanOut(6, { ...all, concurrency: 2 }, async (i) => {
      most = Math.max(most, ++running);
      await sleep(1);
      running--;
      return i;
    });
    assert.deepEqual(results, [0, 1, 2, 3, 4, 5]);
    assert.equal(most, 2);
    const many = await fanOut(50_000, { ...all, concurrency: 2 }, (i) => i);
    assert.equal(many[49_999], 49_999);
  });
});
