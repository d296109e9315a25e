/**
 * `timer` trigger: runs the flow's steps on a schedule (schedule.ts), for polling and sync
 * jobs. Each tick is one message with a null body and empty vars; nobody waits for it, so a
 * run ends after its last step and `respond` is refused at load.
 *
 * Runs never overlap: a tick that comes while the previous run is still going is skipped
 * (logged and counted), not queued, so a slow backend cannot make runs pile up. A failed run
 * is logged with its code (after on_error) and the schedule goes on.
 */
import type { Trigger, TriggerDef } from '../../runtime/contract.ts';
import { Cancellation } from '../../runtime/engine/cancellation.ts';
import { Exchange } from '../../runtime/engine/exchange.ts';
import { WeftError } from '../../runtime/errors.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../runtime/units.ts';
import { compileSchedule, type ScheduleConfig } from './schedule.ts';

interface TimerTriggerConfig extends ScheduleConfig {
  runOnStart?: boolean;
  timeout?: string | number;
}

/** setTimeout's longest delay (~24.8 days); a later tick is reached in several waits. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export const timerTrigger: TriggerDef<TimerTriggerConfig> = {
  name: 'timer',
  summary: 'Runs the steps on a schedule (`every` or `cron`), one run at a time: a tick that comes while a run is going is skipped.',
  refusesRespond: 'in a timer flow: nobody waits for an answer; a run ends after its last step (log or publish what it found)',
  schema: {
    type: 'object',
    properties: {
      every: { ...ref.duration, description: 'Fixed rate, counted from the start: 30s, 5m, 1h. Give this or `cron`.' },
      cron: {
        type: 'string',
        minLength: 1,
        description: 'Cron expression, 5 fields: minute hour day-of-month month day-of-week, e.g. "*/5 * * * *". Give this or `every`.',
      },
      timezone: { type: 'string', minLength: 1, description: 'IANA timezone the cron expression is read in, e.g. Europe/Berlin. Default UTC.' },
      runOnStart: { type: 'boolean', description: 'Also run once as soon as the flow has started. Default false.' },
      timeout: {
        ...ref.duration,
        description: 'Time budget of one run: every call gets what is left of it, none starts once it is spent (DEADLINE_EXCEEDED). Default: none.',
      },
    },
    additionalProperties: false,
  },

  create(config, at, pipeline, services) {
    const schedule = compileSchedule(config, at);
    const { log, inflight } = services;
    const observer = services.metrics?.timerRuns?.();
    const flow = { name: at.flow.name };
    const env = at.flow.env;
    // Ticks during a run are skipped, so a run that hangs would hold back every later one;
    // a budget bounds it the way the http trigger's `timeout` bounds a request.
    const budgetMs = config.timeout === undefined ? undefined : parseDuration(config.timeout);
    const budgetName = `the timer run timeout of ${budgetMs} ms`;

    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    let runs = 0;
    /** The run going on now, and how to cancel it when the drain runs out. */
    let current: { id: string; done: Promise<void>; cancel: Cancellation } | undefined;

    const run = async (id: string, scheduledAt: string, cancel: Cancellation): Promise<void> => {
      const began = performance.now();
      const deadline = budgetMs === undefined ? undefined : { at: began + budgetMs, what: budgetName };
      const ex = new Exchange({ id, log, env, flow, params: { scheduled: scheduledAt, run: String(++runs) }, cancel, deadline });
      ex.body = null;
      let outcome = 'ok';
      try {
        await pipeline.run(ex);
        log.debug({ reqId: id, ms: Math.round(performance.now() - began) }, 'timer run finished');
      } catch (err) {
        const e = WeftError.from(err);
        outcome = e.code;
        log.error({ reqId: id, code: e.code, step: e.step, endpoint: e.endpoint, err: e }, `timer run failed: ${e.message}`);
      } finally {
        observer?.ran(outcome, (performance.now() - began) / 1000);
        inflight.leave();
      }
    };

    const fire = (scheduled: number): void => {
      timer = undefined;
      if (stopped) return;
      if (current !== undefined) {
        log.warn({ scheduled: new Date(scheduled).toISOString(), running: current.id }, 'timer tick skipped: the previous run is still going');
        observer?.skipped();
      } else {
        inflight.enter();
        const scheduledAt = new Date(scheduled).toISOString();
        // The scheduled time names the tick: calls send it on as x-request-id, and two processes
        // firing for the same tick (a mis-scaled deployment) send the same id.
        const id = `${flow.name}@${scheduledAt}`;
        const cancel = new Cancellation();
        const done = run(id, scheduledAt, cancel).finally(() => (current = undefined));
        current = { id, done, cancel };
      }
      arm(scheduled);
    };

    /** Sets the timer for the tick after `previous`. */
    const arm = (previous: number): void => {
      const due = schedule?.next(previous, Date.now());
      if (due === undefined) {
        log.warn({ schedule: schedule?.describe }, 'the timer has no tick left; nothing more will run');
        return;
      }
      const wait = (): void => {
        const left = due - Date.now();
        timer = left > MAX_DELAY_MS ? setTimeout(wait, MAX_DELAY_MS) : setTimeout(fire, Math.max(0, left), due);
      };
      wait();
    };

    return {
      describe: `timer ${schedule?.describe ?? ''}${config.runOnStart ? ', and once on start' : ''}`,
      address: () => undefined,
      async start() {
        const now = Date.now();
        // On the next turn rather than now: the start finishes (and logs `ready`) first.
        if (config.runOnStart) timer = setTimeout(fire, 0, now);
        else arm(now);
      },
      async stop(deadline) {
        stopped = true;
        clearTimeout(timer);
        timer = undefined;
        const running = current;
        if (running === undefined) return;
        // The run may finish within the drain; past it, its calls are cancelled and the
        // process goes on stopping without waiting for steps that ignore cancellation.
        await new Promise<void>((resolve) => {
          const giveUp = (): void => {
            running.cancel.abort(new WeftError('ABORTED', 'the process stopped before the timer run finished (drain timeout)'));
            resolve();
          };
          if (deadline.aborted) return giveUp();
          deadline.addEventListener('abort', giveUp, { once: true });
          void running.done.then(() => {
            deadline.removeEventListener('abort', giveUp);
            resolve();
          });
        });
      },
      health: () => (stopped ? { ok: false, detail: 'stopped' } : timer !== undefined || current !== undefined ? { ok: true } : { ok: false, detail: 'not scheduled' }),
    } satisfies Trigger;
  },
};
