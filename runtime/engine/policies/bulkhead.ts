/**
 * `concurrency` bulkhead: at most `limit` calls in flight to this endpoint, so one slow upstream
 * cannot take every socket and every pending message with it. Beyond the limit a call fails at
 * once with BULKHEAD_FULL (503), unless `queue` lets that many wait (first come, first served).
 */
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';
import type { Cancellation } from '../cancellation.ts';

export type ConcurrencyConfig = number | { limit: number; queue?: number };

export const concurrencySchema = {
  description: 'Bulkhead: calls in flight at most; beyond, BULKHEAD_FULL at once unless queued.',
  oneOf: [
    { type: 'integer', minimum: 1 },
    {
      type: 'object',
      properties: {
        limit: { type: 'integer', minimum: 1, description: 'Calls in flight at most.' },
        queue: { type: 'integer', minimum: 0, description: 'Calls that may wait for a free slot. Default 0.' },
      },
      required: ['limit'],
      additionalProperties: false,
    },
  ],
} as const;

export interface BulkheadSnapshot {
  inFlight: number;
  queued: number;
  rejected: number;
}

export class Bulkhead {
  readonly limit: number;
  readonly queueLimit: number;
  #inFlight = 0;
  #rejected = 0;
  readonly #waiting: { wake: () => void }[] = [];

  constructor(config: ConcurrencyConfig) {
    this.limit = typeof config === 'number' ? config : config.limit;
    this.queueLimit = typeof config === 'number' ? 0 : (config.queue ?? 0);
  }

  snapshot(): BulkheadSnapshot {
    return { inFlight: this.#inFlight, queued: this.#waiting.length, rejected: this.#rejected };
  }

  /** Resolves when the caller holds a slot; rejects with BULKHEAD_FULL, or ABORTED while queued. */
  enter(name: string, cancel: Cancellation | undefined): Promise<void> | undefined {
    if (this.#inFlight < this.limit) {
      this.#inFlight++;
      return undefined;
    }
    if (this.#waiting.length >= this.queueLimit) {
      this.#rejected++;
      throw new WeftError('BULKHEAD_FULL', `endpoint ${name} already has ${this.limit} calls in flight` +
        (this.queueLimit ? ` and ${this.queueLimit} waiting` : ''));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        wake: () => {
          cancel?.unlisten(waiter);
          resolve();
        },
        cancelled: () => {
          const i = this.#waiting.indexOf(waiter);
          if (i !== -1) this.#waiting.splice(i, 1);
          reject(new WeftError('ABORTED', `call to ${name} was cancelled while waiting for a slot`));
        },
      };
      this.#waiting.push(waiter);
      cancel?.listen(waiter);
    });
  }

  /** Frees a slot; a waiting call takes it over directly, so the count never dips. */
  leave(): void {
    const next = this.#waiting.shift();
    if (next) next.wake();
    else this.#inFlight--;
  }
}

export function withBulkhead(call: PreparedCall, bulkhead: Bulkhead, name: string): PreparedCall {
  return async function limited(ex, cancel) {
    const waiting = bulkhead.enter(name, cancel);
    if (waiting) await waiting;
    try {
      return await call(ex, cancel);
    } finally {
      bulkhead.leave();
    }
  };
}
