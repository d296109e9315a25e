/**
 * The rate limiter's arithmetic on an injected clock (no waiting): a bucket admits `burst` at
 * once, then `rate` per `per`; refusals say how long to wait; keys are isolated; the map of
 * buckets stays within maxKeys whatever a client invents; peer addresses become keys by /64.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKey, boundedKey } from '../../../connectors/http/rate-limit.ts';
import { createTokenBuckets } from '../../../connectors/http/token-buckets.ts';

function clock(start = 1_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('token buckets', () => {
  it('admits the burst at once, then refuses with the time until the next token', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 10, perMs: 1000, burst: 3, maxKeys: 1, now: c.now });
    assert.deepEqual([1, 2, 3].map(() => b.take('').remaining), [2, 1, 0]);
    const refused = b.take('');
    assert.equal(refused.allowed, false);
    assert.equal(refused.remaining, 0);
    assert.equal(refused.retryInMs, 100, 'one token comes back every 100 ms');
    assert.equal(refused.fullInMs, 300, 'three tokens to come back');
    c.advance(99);
    assert.equal(b.take('').allowed, false);
    c.advance(1);
    const again = b.take('');
    assert.equal(again.allowed, true);
    assert.equal(again.remaining, 0);
  });

  it('refills to the burst and no further after a quiet spell', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 2, perMs: 1000, burst: 4, maxKeys: 1, now: c.now });
    for (let i = 0; i < 4; i++) assert.equal(b.take('').allowed, true);
    assert.equal(b.take('').allowed, false);
    c.advance(60_000);
    const draws = Array.from({ length: 5 }, () => b.take(''));
    assert.deepEqual(draws.map((d) => d.allowed), [true, true, true, true, false]);
    assert.equal(draws[0].remaining, 3);
  });

  it('holds the average rate over a long run, whatever the float error of the interval', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 3, perMs: 1000, burst: 3, maxKeys: 1, now: c.now });
    let admitted = 0;
    // A request every 10 ms for 60 s: the burst of 3, then 3 per second (one per 333.3 ms).
    for (let i = 0; i < 6000; i++, c.advance(10)) if (b.take('').allowed) admitted++;
    assert.equal(admitted, 3 + Math.floor(59_990 / (1000 / 3)));
  });

  it('keeps each key to its own bucket', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 1, perMs: 1000, burst: 2, maxKeys: 10, now: c.now });
    assert.equal(b.take('a').allowed, true);
    assert.equal(b.take('a').allowed, true);
    assert.equal(b.take('a').allowed, false);
    assert.equal(b.take('b').allowed, true, 'b is not charged for a');
    assert.equal(b.take('b').remaining, 0);
  });

  it('stays within maxKeys under many keys, forgetting the least recently drawn', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 1, perMs: 60_000, burst: 1, maxKeys: 100, now: c.now });
    assert.equal(b.take('regular').allowed, true);
    for (let i = 0; i < 50; i++) b.take(`spray-${i}`);
    assert.equal(b.take('regular').allowed, false, 'still remembered and still empty');
    for (let i = 0; i < 100_000; i++) {
      b.take(`spray-${i}`);
      assert.ok(b.size <= 100);
    }
    assert.equal(b.size, 100);
    assert.equal(b.take('regular').allowed, true, 'pushed out by 100 newer keys: it starts full again');
  });

  it('keeps a refused key where it was in the eviction order', () => {
    const c = clock();
    const b = createTokenBuckets({ rate: 1, perMs: 60_000, burst: 1, maxKeys: 2, now: c.now });
    b.take('old');
    b.take('new');
    assert.equal(b.take('old').allowed, false);
    b.take('third');
    assert.equal(b.take('new').allowed, false, "'new' stayed; 'old' was the least recently admitted");
    assert.equal(b.take('old').allowed, true);
  });
});

describe('rate-limit address keys', () => {
  it('keys IPv4 as is, mapped IPv4 as IPv4, IPv6 by its /64', () => {
    assert.equal(addressKey('203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(addressKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:DB8:0001:0002::9%eth0'), '2001:db8:1:2::/64');
    assert.equal(addressKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKey('::1'), '0:0:0:0::/64');
    assert.equal(addressKey('64:ff9b::192.0.2.33'), '64:ff9b:0:0::/64');
  });
});

describe('rate-limit keys from headers and claims', () => {
  it('keeps short values as they are and long ones as a fixed-size digest, distinct per value', () => {
    assert.equal(boundedKey('tenant-42'), 'tenant-42');
    const long = 'x'.repeat(16_000);
    assert.ok(boundedKey(long).length <= 128);
    assert.equal(boundedKey(long), boundedKey('x'.repeat(16_000)));
    assert.notEqual(boundedKey(long), boundedKey(`${long}y`));
  });
});
