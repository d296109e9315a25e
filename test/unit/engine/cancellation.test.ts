import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cancellation, ChildCancellation, signalOf, type CancelListener } from '../../../runtime/engine/cancellation.ts';
import { Limit } from '../../../runtime/engine/policies/timeout.ts';
import { WeftError } from '../../../runtime/errors.ts';

const recorder = (into: string[], name: string): CancelListener => ({ cancelled: (r) => into.push(`${name}:${(r as Error).message}`) });

describe('Cancellation', () => {
  it('tells each listener once, in order, with the reason; later aborts change nothing', () => {
    const c = new Cancellation();
    const heard: string[] = [];
    c.listen(recorder(heard, 'a'));
    c.listen(recorder(heard, 'b'));
    c.abort(new Error('first'));
    c.abort(new Error('second'));
    assert.deepEqual(heard, ['a:first', 'b:first']);
    assert.equal(c.aborted, true);
    assert.equal((c.reason as Error).message, 'first');
    assert.throws(() => c.throwIfAborted(), /first/);
  });

  it('a listener that comes after the abort is told at once', () => {
    const c = new Cancellation();
    c.abort(new Error('done'));
    const heard: string[] = [];
    c.listen(recorder(heard, 'late'));
    assert.deepEqual(heard, ['late:done']);
  });

  it('unlisten removes exactly that listener, wherever it sits', () => {
    const c = new Cancellation();
    const heard: string[] = [];
    const [a, b, d] = [recorder(heard, 'a'), recorder(heard, 'b'), recorder(heard, 'd')];
    c.listen(a);
    c.listen(b);
    c.listen(d);
    c.unlisten(a);
    c.unlisten(recorder(heard, 'stranger'));
    c.abort(new Error('x'));
    assert.deepEqual(heard, ['b:x', 'd:x']);
  });

  it('a listener that throws does not keep the others from hearing; abort() throws its error after', () => {
    const c = new Cancellation();
    const heard: string[] = [];
    c.listen({
      cancelled: () => {
        throw new Error('listener broke');
      },
    });
    c.listen(recorder(heard, 'b'));
    assert.throws(() => c.abort(new Error('x')), /listener broke/);
    assert.deepEqual(heard, ['b:x']);
    assert.equal(c.aborted, true);
  });

  it('a child fires with its parent until released, and never makes the parent fire', () => {
    const parent = new Cancellation();
    const kept = new ChildCancellation(parent);
    const released = new ChildCancellation(parent);
    released.release();
    kept.abort(new Error('only me'));
    assert.equal(parent.aborted, false);
    const again = new ChildCancellation(parent);
    parent.abort(new Error('all'));
    assert.equal((again.reason as Error).message, 'all');
    assert.equal(released.aborted, false);
    assert.equal(new ChildCancellation(parent).aborted, true, 'a child of a fired parent starts fired');
  });

  it('signalOf gives an AbortSignal that aborts with the cancellation, the same one each time', () => {
    const c = new Cancellation();
    const signal = signalOf(c)!;
    assert.equal(signalOf(c), signal);
    assert.equal(signal.aborted, false);
    c.abort(new Error('stop'));
    assert.equal(signal.aborted, true);
    assert.equal((signal.reason as Error).message, 'stop');
    assert.equal(signalOf(undefined), undefined);
  });
});

describe('Limit (the time limit of one try)', () => {
  it('fires with a TimeoutError when its time is up, and names it TIMEOUT', async () => {
    const limit = new Limit(undefined, 5);
    const reason = await new Promise((resolve) => limit.listen({ cancelled: resolve }));
    assert.equal((reason as Error).name, 'TimeoutError');
    const e = limit.failure(reason, 'slow') as WeftError;
    assert.equal(e.code, 'TIMEOUT');
    limit.end();
  });

  it('says DEADLINE_EXCEEDED when the message budget made it shorter', async () => {
    const limit = new Limit(undefined, 5, { at: 0, what: 'the request timeout of 5 ms' });
    await new Promise((resolve) => limit.listen({ cancelled: resolve }));
    assert.equal((limit.failure(new Error('x'), 'slow') as WeftError).code, 'DEADLINE_EXCEEDED');
    limit.end();
  });

  it('an outer cancellation makes it ABORTED; an own error passes through untouched; end() detaches', () => {
    const outer = new Cancellation();
    const limit = new Limit(outer, 60_000);
    assert.ok(limit.deadline > Date.now() + 59_000, 'carries its deadline for protocols that send one');
    const own = new Error('upstream said no');
    assert.equal(limit.failure(own, 'x'), own);
    const ended = new Limit(outer, 60_000);
    ended.end();
    outer.abort(new WeftError('UPSTREAM_STATUS', 'sibling failed'));
    assert.equal(limit.aborted, true);
    assert.equal((limit.failure(own, 'x') as WeftError).code, 'ABORTED');
    assert.equal(ended.aborted, false);
    limit.end();
  });
});
