/**
 * gRPC status codes -> Weft error codes and the HTTP status a trigger answers with. Transport
 * failures map to the codes every endpoint uses (CONNECTION_FAILED, TIMEOUT); answers of the
 * service are GRPC_STATUS with the gRPC status in `error.grpc`. The HTTP statuses follow the
 * usual gateway mapping (google.rpc.Code), docs/flow-reference.md has the table.
 */
import { WeftError, type ErrorCode } from '../../runtime/errors.ts';
import { tlsFailureReason } from '../tls/handshake-errors.ts';

interface StatusRule {
  name: string;
  http: number;
  code: ErrorCode;
}

const RULES: readonly StatusRule[] = [
  { name: 'OK', http: 200, code: 'GRPC_STATUS' },
  { name: 'CANCELLED', http: 502, code: 'GRPC_STATUS' },
  { name: 'UNKNOWN', http: 502, code: 'GRPC_STATUS' },
  { name: 'INVALID_ARGUMENT', http: 400, code: 'GRPC_STATUS' },
  { name: 'DEADLINE_EXCEEDED', http: 504, code: 'TIMEOUT' },
  { name: 'NOT_FOUND', http: 404, code: 'GRPC_STATUS' },
  { name: 'ALREADY_EXISTS', http: 409, code: 'GRPC_STATUS' },
  { name: 'PERMISSION_DENIED', http: 403, code: 'GRPC_STATUS' },
  { name: 'RESOURCE_EXHAUSTED', http: 429, code: 'GRPC_STATUS' },
  { name: 'FAILED_PRECONDITION', http: 400, code: 'GRPC_STATUS' },
  { name: 'ABORTED', http: 409, code: 'GRPC_STATUS' },
  { name: 'OUT_OF_RANGE', http: 400, code: 'GRPC_STATUS' },
  { name: 'UNIMPLEMENTED', http: 501, code: 'GRPC_STATUS' },
  { name: 'INTERNAL', http: 502, code: 'GRPC_STATUS' },
  { name: 'UNAVAILABLE', http: 503, code: 'CONNECTION_FAILED' },
  { name: 'DATA_LOSS', http: 502, code: 'GRPC_STATUS' },
  { name: 'UNAUTHENTICATED', http: 401, code: 'GRPC_STATUS' },
];

export interface GrpcFailure {
  code: number;
  details?: string;
  metadata?: { getMap(): Record<string, unknown> };
}

/** The error a failed call raises; `error.grpc` has the status number, its name, message and trailers. */
export function grpcError(failure: GrpcFailure, endpoint: string, method: string, secure = false): WeftError {
  const rule = RULES[failure.code] ?? RULES[2];
  const trailers: Record<string, string> = {};
  for (const [k, v] of Object.entries(failure.metadata?.getMap() ?? {})) trailers[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  const message = failure.details ?? '';
  // grpc-js reports a failed handshake as UNAVAILABLE with Node's message as the details.
  const tls = rule.name === 'UNAVAILABLE' && secure ? tlsFailureReason(undefined, message) : undefined;
  if (tls !== undefined) {
    return new WeftError('TLS_FAILED', `${endpoint} ${method} failed: ${tls}`, {
      endpoint,
      details: { grpc: { code: failure.code, status: rule.name, message, metadata: trailers } },
    });
  }
  return new WeftError(rule.code, `${endpoint} ${method} failed with gRPC status ${rule.name}${message ? `: ${message}` : ''}`, {
    endpoint,
    status: rule.http,
    // Only a server that cannot be reached is worth another try; its answers are final.
    retryable: rule.name === 'UNAVAILABLE',
    details: { grpc: { code: failure.code, status: rule.name, message, metadata: trailers } },
  });
}
