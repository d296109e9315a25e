/**
 * `retry`: tries a call again after exponential backoff with full jitter (AWS architecture
 * blog, "Exponential Backoff And Jitter"): the n-th wait is uniform in [0, min(max, base*2^(n-1))],
 * which spreads the retries of many clients instead of synchronising them.
 *
 * By default only errors marked retryable are tried again, and only for calls the endpoint
 * says are idempotent (GET, PUT, DELETE...): a POST that timed out may have been applied.
 * A Retry-After of a 429 or 503 answer replaces the computed wait; when it asks for longer
 * than `maxBackoff`, waiting is pointless for this message and the error is returned at once.
 */
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';
import { parseDuration } from '../../units.ts';
import { upstreamHeader, upstreamStatus } from './failure.ts';
import { sleep } from './sleep.ts';

export interface RetryConfig {
  /** Every try counts, the first included: attempts 3 = one call and up to two retries. */
  attempts: number;
  backoff?: string | number;
  maxBackoff?: string | number;
  /** Error codes retried instead of the default (every error marked retryable). */
  on?: string[];
  /** Retry calls the endpoint does not call idempotent (e.g. POST). Default false. */
  nonIdempotent?: boolean;
}

export const retrySchema = {
  type: 'object',
  description: 'Try failed calls again with exponential backoff and full jitter.',
  properties: {
    attempts: { type: 'integer', minimum: 1, maximum: 20, description: 'Tries in all, the first included.' },
    backoff: { $ref: '#/definitions/duration', description: 'Base wait before the first retry; doubles each time. Default 100ms.' },
    maxBackoff: { $ref: '#/definitions/duration', description: 'Longest wait between tries, and longest Retry-After honoured. Default 10s.' },
    on: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
      description: 'Error codes to retry, instead of every retryable error.',
    },
    nonIdempotent: { type: 'boolean', description: 'Also retry calls that are not idempotent (POST, SOAP). Default false.' },
  },
  required: ['attempts'],
  additionalProperties: false,
} as const;

const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** Full-jitter wait before try number `retry` (1 = the first retry). */
export function backoffDelay(retry: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function withRetry(
  call: PreparedCall,
  config: RetryConfig,
  idempotent: boolean,
  name: string,
  onRetry?: (code: string) => void,
): PreparedCall {
  if (config.attempts <= 1 || (!idempotent && !config.nonIdempotent)) return call;
  const attempts = config.attempts;
  const baseMs = config.backoff === undefined ? 100 : parseDuration(config.backoff);
  const maxMs = config.maxBackoff === undefined ? 10_000 : parseDuration(config.maxBackoff);
  const codes = config.on ? new Set(config.on) : undefined;
  const shouldRetry = (e: WeftError) => (codes ? codes.has(e.code) : e.retryable);

  return async function retried(ex, cancel) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call(ex, cancel);
      } catch (err) {
        const e = WeftError.from(err);
        if (attempt >= attempts || !shouldRetry(e) || cancel?.aborted) throw e;
        let wait = backoffDelay(attempt, baseMs, maxMs);
        const status = e.code === 'UPSTREAM_STATUS' ? upstreamStatus(e) : undefined;
        if (status !== undefined && RETRY_AFTER_STATUSES.has(status)) {
          const asked = retryAfterMs(upstreamHeader(e, 'retry-after'));
          if (asked !== undefined) {
            if (asked > maxMs) throw e;
            wait = asked;
          }
        }
        ex.log.debug({ endpoint: name, attempt, code: e.code, waitMs: wait }, 'retrying call');
        onRetry?.(e.code);
        await sleep(wait, cancel, `retry of ${name}`);
      }
    }
  };
}
