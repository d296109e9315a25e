/**
 * Runs compiled steps in order. A step that answers (respond) ends the sequence; a step that
 * throws is tagged with its path (`steps[2].call`) where it was compiled, so locating an error
 * costs nothing until one happens.
 */
import type { Pipeline, StepFn } from '../contract.ts';
import { WeftError } from '../errors.ts';
import type { Exchange } from './exchange.ts';
import { withDetails } from './error-details.ts';

export interface PathedStep {
  fn: StepFn;
  path: string;
}

/** One StepFn that runs `steps` in order and stops once the exchange has a reply. */
export function sequence(steps: readonly PathedStep[]): StepFn {
  const fns = steps.map((s) => s.fn);
  const paths = steps.map((s) => s.path);
  const n = fns.length;
  if (n === 0) return () => {};
  return async function runSequence(ex: Exchange): Promise<void> {
    let i = 0;
    try {
      for (; i < n; i++) {
        const pending = fns[i](ex);
        if (pending !== undefined) await pending;
        if (ex.reply !== undefined) return;
      }
    } catch (err) {
      const e = WeftError.from(err);
      e.step ??= paths[i];
      throw e;
    }
  };
}

/**
 * The flow's steps plus `on_error`. When a step fails, the compensations of the calls that
 * succeeded run first (so on_error sees `error.compensated`), then on_error runs with `error`
 * in context; if it answers, the message is done; otherwise the original error stands
 * (on_error may log or enrich, but only an explicit reply or a new failure replaces the error).
 */
export function createPipeline(steps: StepFn, onError: StepFn | undefined): Pipeline {
  return {
    async run(ex: Exchange): Promise<void> {
      try {
        await steps(ex);
      } catch (err) {
        let e = WeftError.from(err);
        if (ex.hasCompensations) e = withDetails(e, { compensated: await ex.saga.compensate(ex, e) });
        if (!onError) throw e;
        ex.error = e.toContext();
        await onError(ex);
        if (ex.reply === undefined) throw e;
      }
    },
  };
}
