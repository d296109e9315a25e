/** The resilience building blocks with a controlled clock (no waiting, no timing). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Balancer } from '../../../runtime/engine/balancer.ts';
import { CircuitBreaker } from '../../../runtime/engine/policies/circuit-breaker.ts';
import { backoffDelay, retryAfterMs } from '../../../runtime/engine/policies/retry.ts';

describe('retry backoff', () => {
  it('full jitter: uniform below base * 2^(n-1), capped by maxBackoff', () => {
    assert.equal(backoffDelay(1, 100, 10_000, () => 0.999999), 99);
    assert.equal(backoffDelay(3, 100, 10_000, () => 0.5), 200);
    assert.equal(backoffDelay(20, 100, 10_000, () => 0.5), 5_000);
    assert.equal(backoffDelay(2, 100, 10_000, () => 0), 0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('7'), 7_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(retryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });
});

describe('circuit breaker states', () => {
  it('closed -> open -> half-open -> closed, with one trial at a time', () => {
    let now = 0;
    const b = new CircuitBreaker({ failures: 2, resetAfter: '10s' }, () => now);
    assert.equal(b.acquire(), 'call');
    b.failure(false);
    assert.equal(b.state, 'closed');
    b.failure(false);
    assert.equal(b.state, 'open');
    assert.equal(b.acquire(), undefined);
    now = 10_000;
    assert.equal(b.state, 'half-open');
    assert.equal(b.acquire(), 'trial');
    assert.equal(b.acquire(), undefined, 'a second trial waits for the first');
    b.success(true);
    assert.equal(b.state, 'closed');
    assert.deepEqual(b.snapshot(), { state: 'closed', consecutiveFailures: 0, opened: 1, rejected: 2 });
  });

  it('a success in between resets the count of consecutive failures', () => {
    const b = new CircuitBreaker({ failures: 2 });
    b.failure(false);
    b.success(false);
    b.failure(false);
    assert.equal(b.state, 'closed');
  });
});

describe('balancer', () => {
  it('round robin, ejection after consecutive failures, re-admission after the cool-down', () => {
    let now = 0;
    const lb = new Balancer(['a', 'b', 'c'], { failures: 2, cooldown: '30s' }, () => now);
    assert.deepEqual([1, 2, 3, 4].map(() => lb.pick().target), ['a', 'b', 'c', 'a']);
    const a = lb.members[0];
    lb.failure(a);
    lb.failure(a);
    assert.deepEqual(lb.ejected(), ['a']);
    assert.deepEqual([1, 2, 3, 4].map(() => lb.pick().target), ['b', 'c', 'b', 'c']);
    now = 30_000;
    assert.deepEqual(lb.ejected(), []);
    assert.deepEqual([1, 2, 3].map(() => lb.pick().target).sort(), ['a', 'b', 'c']);
  });

  it('when every target is ejected, the one back soonest is still used', () => {
    let now = 0;
    const lb = new Balancer(['a', 'b'], { failures: 1, cooldown: '30s' }, () => now);
    lb.failure(lb.members[0]);
    now = 1;
    lb.failure(lb.members[1]);
    assert.equal(lb.pick().target, 'a');
  });
});
