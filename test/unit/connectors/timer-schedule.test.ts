/** Next-tick computation of the timer trigger against fixed instants: no real clock involved. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cronSchedule, everySchedule, isTimezone } from '../../../connectors/timer/schedule.ts';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `n` ticks from `start`, each computed as the trigger does (now = the tick itself). */
function ticks(schedule: ReturnType<typeof cronSchedule>, start: string, n: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let previous = at(start);
  for (let i = 0; i < n; i++) {
    const next = schedule.next(previous, previous);
    out.push(iso(next));
    if (next === undefined) break;
    previous = next;
  }
  return out;
}

describe('every', () => {
  const s = everySchedule(30_000);

  it('ticks at start + k * period', () => {
    assert.equal(s.next(1_000, 1_000), 31_000);
    assert.equal(s.next(31_000, 31_000), 61_000);
    assert.equal(s.next(31_000, 31_004), 61_000, 'a timer that fired late keeps the rate');
  });

  it('does not make up ticks the process was too busy for, and keeps the phase', () => {
    assert.equal(s.next(31_000, 100_000), 121_000);
    assert.equal(s.next(31_000, 91_000), 121_000, 'a tick exactly now has passed');
  });

  it('does not tick twice when the timer fired early', () => {
    assert.equal(s.next(31_000, 30_999), 61_000);
  });
});

describe('cron', () => {
  it('computes the next minutes of */5 in UTC', () => {
    assert.deepEqual(ticks(cronSchedule('*/5 * * * *', 'UTC'), '2026-01-01T00:03:10Z', 3), [
      '2026-01-01T00:05:00.000Z',
      '2026-01-01T00:10:00.000Z',
      '2026-01-01T00:15:00.000Z',
    ]);
  });

  it('reads the expression in its timezone, summer and winter time alike', () => {
    const s = cronSchedule('0 9 * * *', 'Europe/Berlin');
    assert.equal(iso(s.next(at('2026-01-15T00:00:00Z'), at('2026-01-15T00:00:00Z'))), '2026-01-15T08:00:00.000Z');
    assert.equal(iso(s.next(at('2026-07-15T00:00:00Z'), at('2026-07-15T00:00:00Z'))), '2026-07-15T07:00:00.000Z');
  });

  it('skips days by name: MON-FRI from a Saturday is the Monday', () => {
    assert.deepEqual(ticks(cronSchedule('30 6 * * MON-FRI', 'UTC'), '2026-01-03T12:00:00Z', 2), ['2026-01-05T06:30:00.000Z', '2026-01-06T06:30:00.000Z']);
  });

  it('runs a fixed time that a DST change skips at the first time after the gap', () => {
    // 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
    assert.deepEqual(ticks(cronSchedule('30 2 * * *', 'Europe/Berlin'), '2026-03-28T00:00:00Z', 3), [
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('takes the last day of the month and nicknames', () => {
    assert.deepEqual(ticks(cronSchedule('0 0 L * *', 'UTC'), '2026-02-03T00:00:00Z', 2), ['2026-02-28T00:00:00.000Z', '2026-03-31T00:00:00.000Z']);
    assert.deepEqual(ticks(cronSchedule('@hourly', 'UTC'), '2026-01-01T00:03:10Z', 1), ['2026-01-01T01:00:00.000Z']);
  });

  it('does not fire twice for one minute when the timer fires early', () => {
    const s = cronSchedule('* * * * *', 'UTC');
    assert.equal(iso(s.next(at('2026-01-01T00:01:00Z'), at('2026-01-01T00:00:59.990Z'))), '2026-01-01T00:02:00.000Z');
  });

  it('has no next tick for a date that never comes', () => {
    assert.equal(cronSchedule('0 0 30 2 *', 'UTC').next(at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:00Z')), undefined);
  });

  it('refuses what is not a 5-field expression', () => {
    assert.throws(() => cronSchedule('*/5 * * * * *', 'UTC'), /exactly 5 parts/);
    assert.throws(() => cronSchedule('61 * * * *', 'UTC'), /Invalid value for minute: 61/);
    assert.throws(() => cronSchedule('every minute', 'UTC'));
  });
});

describe('timezones', () => {
  it('knows IANA names and nothing else', () => {
    assert.ok(isTimezone('UTC'));
    assert.ok(isTimezone('America/New_York'));
    assert.equal(isTimezone('Mars/Olympus'), false);
    assert.equal(isTimezone('CEST+2'), false);
  });
});
