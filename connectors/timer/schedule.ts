/**
 * When the timer trigger fires: `every: <duration>` (fixed rate, counted from the start) or
 * `cron: "<5 fields>"` in a timezone. Parsed and checked at load, so a flow with a bad
 * expression or timezone does not start; computing a tick is then a pure function of the
 * clock, which the tests drive with fixed instants.
 *
 * Cron expressions are read by croner (no dependencies, standard 5-field syntax with names,
 * ranges, steps, `L` and `#`, DST handled), loaded only by flows that use `cron`.
 */
import type { Cron as CronType } from 'croner';
import type { CompileContext } from '../../runtime/contract.ts';
import { lazyModule } from '../../runtime/lazy.ts';
import { parseDuration } from '../../runtime/units.ts';

const croner = lazyModule<typeof import('croner')>('croner');

export interface ScheduleConfig {
  every?: string | number;
  cron?: string;
  timezone?: string;
}

export interface Schedule {
  /** For the startup log: `every 30000 ms`, `cron "*\/5 * * * *" (UTC)`. */
  readonly describe: string;
  /**
   * Epoch ms of the first tick after `previous` (the last tick, or the start) that `now` has
   * not passed yet: ticks missed while the process was busy are not made up. Undefined when
   * the expression has no date left.
   */
  next(previous: number, now: number): number | undefined;
}

/** A fixed rate: ticks at start + k * period, whatever each run takes. */
export function everySchedule(periodMs: number): Schedule {
  return {
    describe: `every ${periodMs} ms`,
    next(previous, now) {
      const behind = now > previous ? Math.floor((now - previous) / periodMs) : 0;
      return previous + (behind + 1) * periodMs;
    },
  };
}

/** Wall-clock ticks of a 5-field cron expression in an IANA timezone. Throws on a bad one. */
export function cronSchedule(expression: string, timezone: string): Schedule {
  const cron: CronType = new croner.Cron(expression, { mode: '5-part', timezone });
  return {
    describe: `cron "${expression}" (${timezone})`,
    next(previous, now) {
      // croner's nextRun is strictly after its argument, so a timer that fired a little early
      // (before `previous` by the wall clock) does not fire for the same minute twice.
      return cron.nextRun(new Date(Math.max(previous, now)))?.getTime();
    },
  };
}

/** Whether `name` is a timezone this runtime knows (Intl's IANA database). */
export function isTimezone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The schedule of a timer trigger's config; problems are recorded at their keys. */
export function compileSchedule(config: ScheduleConfig, at: CompileContext): Schedule | undefined {
  if ((config.every === undefined) === (config.cron === undefined)) {
    at.problem('FLOW_SCHEMA', 'a timer needs exactly one of `every` (a duration) or `cron` (an expression)', config.cron === undefined ? undefined : 'cron');
    return undefined;
  }
  if (config.every !== undefined) {
    if (config.timezone !== undefined) at.problem('FLOW_SCHEMA', '`timezone` applies to `cron` only: `every` counts from the start, in no timezone', 'timezone');
    const periodMs = parseDuration(config.every);
    if (!(periodMs >= 1)) {
      at.problem('FLOW_SCHEMA', `every must be at least 1ms, got ${JSON.stringify(config.every)}`, 'every');
      return undefined;
    }
    return everySchedule(periodMs);
  }
  const timezone = config.timezone ?? 'UTC';
  if (!isTimezone(timezone)) {
    at.problem('FLOW_SCHEMA', `unknown timezone '${timezone}': give an IANA name such as UTC or Europe/Berlin`, 'timezone');
    return undefined;
  }
  let schedule: Schedule;
  try {
    schedule = cronSchedule(config.cron as string, timezone);
  } catch (err) {
    const why = (err as Error).message.replace(/^Cron\w*: /, '');
    at.problem('FLOW_SCHEMA', `invalid cron expression "${config.cron}": ${why} (5 fields: minute hour day-of-month month day-of-week)`, 'cron');
    return undefined;
  }
  const now = Date.now();
  if (schedule.next(now, now) === undefined) {
    at.problem('FLOW_SCHEMA', `cron expression "${config.cron}" never fires (no such date)`, 'cron');
    return undefined;
  }
  return schedule;
}
