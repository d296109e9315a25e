/**
 * The step runner: a one-step sequence takes a path without an async frame of its own, longer
 * sequences the general loop. Both must tag a failure with the step's path, whether the step
 * throws synchronously or rejects, and on_error must see it the same way.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepFn } from '../../../runtime/contract.ts';
import { Exchange } from '../../../runtime/engine/exchange.ts';
import { createPipeline, sequence } from '../../../runtime/engine/pipeline.ts';
import { WeftError } from '../../../runtime/errors.ts';
import { silentLogger } from '../../../runtime/log.ts';

const exchange = () => new Exchange({ id: 'r1', log: silentLogger(), env: {}, flow: { name: 't' } });
const throwsSync: StepFn = () => {
  throw new Error('sync');
};
const rejects: StepFn = async () => {
  throw new WeftError('UPSTREAM_STATUS', 'async');
};
const setsBody: StepFn = (ex) => {
  ex.body = { n: ((ex.body as { n?: number } | undefined)?.n ?? 0) + 1 };
};

for (const [what, pad] of [
  ['one step (fast path)', []],
  ['two steps (general loop)', [setsBody]],
] as const) {
  describe(`sequence of ${what}`, () => {
    const path = `steps[${pad.length}]`;
    const steps = (fn: StepFn) => sequence([...pad.map((f, i) => ({ fn: f, path: `steps[${i}]` })), { fn, path }]);

    it('tags a synchronous throw with the step path, as a rejection', async () => {
      const pending = steps(throwsSync)(exchange());
      assert.ok(pending instanceof Promise, 'a throwing step still yields a promise');
      await assert.rejects(pending, (e: WeftError) => e.code === 'INTERNAL' && e.step === path && e.message === 'sync');
    });

    it('tags a rejection with the step path and keeps its code', async () => {
      await assert.rejects(Promise.resolve(steps(rejects)(exchange())), (e: WeftError) => e.code === 'UPSTREAM_STATUS' && e.step === path);
    });

    it('runs synchronous steps to the end', async () => {
      const ex = exchange();
      await steps(setsBody)(ex);
      assert.deepEqual(ex.body, { n: pad.length + 1 });
    });

    it('lets on_error answer a failure, seeing the tagged error', async () => {
      const ex = exchange();
      const onError: StepFn = (e) => e.respond({ status: 503, headers: undefined, useBody: false, body: { seen: e.error?.step }, format: undefined });
      await createPipeline(steps(rejects), onError).run(ex);
      assert.equal(ex.reply?.status, 503);
      assert.deepEqual(ex.reply?.body, { seen: path });
    });

    it('rejects with the tagged error when nothing answers it', async () => {
      await assert.rejects(createPipeline(steps(throwsSync), undefined).run(exchange()), (e: WeftError) => e.step === path);
    });
  });
}
