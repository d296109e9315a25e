import { WeftError } from '../errors.ts';

/** The same error with more facts for `error` (details are read-only on the original). */
export function withDetails(e: WeftError, extra: Record<string, unknown>): WeftError {
  return new WeftError(e.code, e.message, {
    status: e.status,
    retryable: e.retryable,
    step: e.step,
    endpoint: e.endpoint,
    details: { ...e.details, ...extra },
    cause: e.cause,
  });
}
