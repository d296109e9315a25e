import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { linked } from '../../../runtime/engine/abort.ts';

test('a linked signal aborts with its parent, with the parent reason', () => {
  const parent = new AbortController();
  const l = linked(parent.signal);
  const why = new Error('caller went away');
  parent.abort(why);
  assert.equal(l.signal.aborted, true);
  assert.equal(l.signal.reason, why);
  assert.equal(l.timedOut, false);
  l.dispose();
});

test('an already aborted parent aborts the linked signal at once', () => {
  const parent = new AbortController();
  parent.abort('gone');
  assert.equal(linked(parent.signal).signal.reason, 'gone');
});

test('the timer aborts with a TimeoutError, as AbortSignal.timeout does', async () => {
  const l = linked(undefined, 1);
  await once(l.signal, 'abort');
  assert.equal(l.timedOut, true);
  assert.equal((l.signal.reason as DOMException).name, 'TimeoutError');
});

test('after dispose neither the parent nor the timer aborts it, and the parent keeps no listener', async () => {
  const parent = new AbortController();
  const l = linked(parent.signal, 1);
  l.dispose();
  parent.abort('late');
  // A later timer of the same length has fired by the time this one would have.
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(l.signal.aborted, false);
  assert.equal(l.timedOut, false);
});

test('abort() aborts the linked signal only, not the parent', () => {
  const parent = new AbortController();
  const l = linked(parent.signal);
  l.abort('first failure');
  assert.equal(l.signal.reason, 'first failure');
  assert.equal(parent.signal.aborted, false);
  l.dispose();
});
