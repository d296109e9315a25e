/**
 * Errors as RFC 9457 problem documents. What the client reads is the code, the title and, for
 * errors the caller can act on, the message; internal details of 5xx failures (upstream
 * addresses, causes) go to the log only, with the request id that ties both together.
 */
import type { Compensated } from '../../runtime/engine/saga.ts';
import { ERROR_CODES, WeftError } from '../../runtime/errors.ts';

export const PROBLEM_TYPE = 'application/problem+json';

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
  step?: string;
  endpoint?: string;
  violations?: unknown;
  /** What the saga undid before answering: step, endpoint, ok and the failure's code only. */
  compensated?: { step: string; endpoint: string; ok: boolean; code?: string }[];
}

export function problemOf(e: WeftError, requestId: string): ProblemDocument {
  const builtIn = e.code in ERROR_CODES;
  const title = builtIn ? ERROR_CODES[e.code as keyof typeof ERROR_CODES].title : e.code;
  const hidden = builtIn && e.status >= 500 && e.code !== 'FAILED';
  const doc: ProblemDocument = {
    type: `urn:weft:error:${e.code}`,
    title,
    status: e.status,
    detail: hidden ? (e.endpoint ? `${title} (endpoint ${e.endpoint})` : title) : e.message,
    code: e.code,
    requestId,
  };
  if (e.step) doc.step = e.step;
  if (e.endpoint) doc.endpoint = e.endpoint;
  if (e.details?.violations) doc.violations = e.details.violations;
  if (Array.isArray(e.details?.compensated)) {
    doc.compensated = (e.details.compensated as Compensated[]).map((c) => ({ step: c.step, endpoint: c.endpoint, ok: c.ok, code: c.error?.code }));
  }
  return doc;
}
