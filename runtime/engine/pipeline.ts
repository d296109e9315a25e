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
  if (n === 1) return single(fns[0], paths[0]);
  return async function runSequence(ex: Exchange): Promise<void> {
    let i = 0;
    try {
      for (; i < n; i++) {
        const pending = fns[i](ex);
        if (pending !== undefined) await pending;
        if (ex.reply !== undefined) return;
      }
    } catch (err) {
      throw atStep(err, paths[i]);
    }
  };
}

/** The error as a WeftError that says which step failed (unless a nested step said so first). */
function atStep(err: unknown, path: string): WeftError {
  const e = WeftError.from(err);
  e.step ??= path;
  return e;
}

/**
 * A sequence of one step (the common flow: one call) without an async frame of its own: the
 * step's promise is passed on, with a rejection handler made once that tags the step. A step
 * that throws synchronously still yields a rejected promise, as the async runner would.
 */
function single(fn: StepFn, path: string): StepFn {
  const tag = (err: unknown): never => {
    throw atStep(err, path);
  };
  return function runStep(ex: Exchange): void | Promise<void> {
    let pending: void | Promise<void>;
    try {
      pending = fn(ex);
    } catch (err) {
      return Promise.reject(atStep(err, path));
    }
    return pending === undefined ? undefined : pending.then(undefined, tag);
  };
}

/**
 * The flow's steps plus `on_error`. When a step fails, the compensations of the calls that
 * succeeded run first (so on_error sees `error.compensated`), then on_error runs with `error`
 * in context; if it answers, the message is done; otherwise the original error stands
 * (on_error may log or enrich, but only an explicit reply or a new failure replaces the error).
 */
export function createPipeline(steps: StepFn, onError: StepFn | undefined): Pipeline {
  const recover = async (ex: Exchange, err: unknown): Promise<void> => {
    let e = WeftError.from(err);
    if (ex.hasCompensations) e = withDetails(e, { compensated: await ex.saga.compensate(ex, e) });
    if (!onError) throw e;
    ex.error = e.toContext();
    await onError(ex);
    if (ex.reply === undefined) throw e;
  };
  return {
    // Not an async function: the steps' own promise is returned, with `recover` attached only
    // as its rejection handler, so a message that succeeds costs no extra frame here.
    run(ex: Exchange): Promise<void> {
      let pending: void | Promise<void>;
      try {
        pending = steps(ex);
      } catch (err) {
        return recover(ex, err);
      }
      return pending === undefined ? Promise.resolve() : pending.then(undefined, (err: unknown) => recover(ex, err));
    },
  };
}
