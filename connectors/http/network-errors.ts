/** Socket-level failures of outbound HTTP (undici and Node errors) -> Weft's stable codes. */
import { WeftError, type ErrorCode } from '../../runtime/errors.ts';
import { tlsFailureReason } from '../tls/handshake-errors.ts';

const BY_CODE: Record<string, ErrorCode> = {
  ECONNREFUSED: 'CONNECTION_REFUSED',
  ECONNRESET: 'CONNECTION_RESET',
  EPIPE: 'CONNECTION_RESET',
  UND_ERR_SOCKET: 'CONNECTION_RESET',
  UND_ERR_CLOSED: 'CONNECTION_RESET',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'CONNECTION_RESET',
  UND_ERR_CONNECT_TIMEOUT: 'TIMEOUT',
  UND_ERR_HEADERS_TIMEOUT: 'TIMEOUT',
  UND_ERR_BODY_TIMEOUT: 'TIMEOUT',
  ETIMEDOUT: 'TIMEOUT',
  ENOTFOUND: 'CONNECTION_FAILED',
  EAI_AGAIN: 'CONNECTION_FAILED',
  EHOSTUNREACH: 'CONNECTION_FAILED',
  ENETUNREACH: 'CONNECTION_FAILED',
  EADDRNOTAVAIL: 'CONNECTION_FAILED',
  UND_ERR_RES_EXCEEDED_MAX_SIZE: 'UPSTREAM_TOO_LARGE',
  HPE_INVALID_CONSTANT: 'UPSTREAM_MALFORMED',
  HPE_INVALID_HEADER_TOKEN: 'UPSTREAM_MALFORMED',
  UND_ERR_HEADERS_OVERFLOW: 'UPSTREAM_MALFORMED',
};

/** Maps a thrown network error; aborts are returned unchanged so the caller's policy names them. */
export function networkError(err: unknown, endpoint: string, target: string): unknown {
  if (err instanceof WeftError) return err;
  // `code` is not always a string (a DOMException's is a number): read it as one only when it is.
  const raw = err as { name?: string; code?: unknown; cause?: { code?: unknown }; message?: string };
  const e = {
    name: raw?.name,
    message: raw?.message,
    code: typeof raw?.code === 'string' ? raw.code : undefined,
    cause: { code: typeof raw?.cause?.code === 'string' ? raw.cause.code : undefined },
  };
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.code === 'UND_ERR_ABORTED' || e.code === 'ABORT_ERR') return err;
  // A TLS failure as the cause names the real reason of a "socket closed" (tls/undici-connector.ts).
  const tls = tlsFailureReason(e.code, undefined) ?? tlsFailureReason(e.cause.code, undefined);
  if (tls !== undefined) return new WeftError('TLS_FAILED', `call to ${endpoint} (${target}) failed: ${tls}`, { endpoint, cause: err });
  const code = BY_CODE[e?.code ?? ''] ?? BY_CODE[e?.cause?.code ?? ''] ?? (e.code?.startsWith('HPE_') ? 'UPSTREAM_MALFORMED' : undefined);
  if (!code) {
    return new WeftError('CONNECTION_FAILED', `call to ${endpoint} (${target}) failed: ${e?.message ?? String(err)}`, { endpoint, cause: err });
  }
  return new WeftError(code, `call to ${endpoint} (${target}) failed: ${e?.code ?? e?.cause?.code} ${e?.message ?? ''}`.trim(), {
    endpoint,
    cause: err,
  });
}
