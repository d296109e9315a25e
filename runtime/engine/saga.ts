/**
 * Saga with compensating operations (the white paper's answer to distributed transactions):
 * every call that succeeded and declares `compensate:` leaves an entry here; when the flow
 * fails, the entries run in reverse order, each with the context of its own call. One saga
 * belongs to one message and is shared by all its forks (parallel branches, foreach items),
 * so completion order across branches is kept and one failure undoes everything before it.
 */
import type { StepFn } from '../contract.ts';
import { WeftError } from '../errors.ts';
import type { Exchange } from './exchange.ts';

export interface SagaEntry {
  /** Path of the call step that registered it, e.g. `steps[1].call`. */
  readonly step: string;
  readonly endpoint: string;
  readonly steps: StepFn;
  /** The body when the call was made, and the call's answer. */
  readonly request: unknown;
  readonly result: unknown;
  /** The vars right after the call (a shallow copy). */
  readonly vars: Record<string, unknown>;
}

/** What happened to one compensation; the list lands in `error.compensated`. */
export interface Compensated {
  step: string;
  endpoint: string;
  ok: boolean;
  error?: { code: string; message: string };
}

export class Saga {
  #entries: SagaEntry[] = [];

  get size(): number {
    return this.#entries.length;
  }

  add(entry: SagaEntry): void {
    this.#entries.push(entry);
  }

  /**
   * Runs every pending compensation, last first, and forgets them. A failing compensation is
   * logged and reported but does not stop the others. Compensations run without the message's
   * deadline or cancellation: undoing must not be skipped because the request ran out of time
   * (each call still has its endpoint's own timeout).
   */
  async compensate(ex: Exchange, cause: WeftError): Promise<Compensated[]> {
    const entries = this.#entries.splice(0).reverse();
    const report: Compensated[] = [];
    for (const entry of entries) {
      const child = ex.fork({
        body: { request: entry.request, result: entry.result },
        vars: { ...entry.vars },
        cancel: undefined,
        deadline: undefined,
        ownSaga: true,
      });
      child.error = cause.toContext();
      try {
        await entry.steps(child);
        report.push({ step: entry.step, endpoint: entry.endpoint, ok: true });
        ex.log.info({ reqId: ex.id, step: entry.step, endpoint: entry.endpoint }, 'compensated');
      } catch (err) {
        const e = WeftError.from(err);
        report.push({ step: entry.step, endpoint: entry.endpoint, ok: false, error: { code: e.code, message: e.message } });
        ex.log.error({ reqId: ex.id, step: entry.step, endpoint: entry.endpoint, code: e.code, failedStep: e.step, err: e }, 'compensation failed');
      }
    }
    return report;
  }
}
