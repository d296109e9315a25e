/**
 * What counts as the upstream failing, for the circuit breaker and outlier ejection: the
 * transport failed or timed out, or the upstream answered 5xx. A 4xx answer, a SOAP fault or a
 * cancelled call says nothing about the upstream's health.
 */
import { WeftError } from '../../errors.ts';

const TRANSPORT = new Set(['TIMEOUT', 'CONNECTION_REFUSED', 'CONNECTION_RESET', 'CONNECTION_FAILED', 'UPSTREAM_MALFORMED']);

export function isUpstreamFailure(err: unknown): boolean {
  if (!(err instanceof WeftError)) return true;
  if (TRANSPORT.has(err.code)) return true;
  if (err.code === 'UPSTREAM_STATUS') return (upstreamStatus(err) ?? 0) >= 500;
  return false;
}

/** The HTTP status an upstream answered with, when the error carries one. */
export function upstreamStatus(err: WeftError): number | undefined {
  const upstream = err.details?.upstream as { status?: unknown } | undefined;
  return typeof upstream?.status === 'number' ? upstream.status : undefined;
}

/** A response header of the upstream answer carried by an UPSTREAM_STATUS error. */
export function upstreamHeader(err: WeftError, name: string): string | undefined {
  const upstream = err.details?.upstream as { headers?: Record<string, unknown> } | undefined;
  const value = upstream?.headers?.[name];
  return typeof value === 'string' ? value : undefined;
}
