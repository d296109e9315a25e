/**
 * One error type for the whole runtime. Every failure a user can meet carries a stable `code`
 * from the catalogue below; the catalogue gives the HTTP status a trigger answers with and
 * whether a retry can help. docs/errors.md documents every code (a test keeps them in sync).
 */

export interface CodeInfo {
  /** HTTP status a trigger answers with when this error is not handled by the flow. */
  readonly status: number;
  /** True when trying the same call again may succeed (used by retry policies). */
  readonly retryable: boolean;
  /** Short human title; the problem document's `title`. */
  readonly title: string;
}

export const ERROR_CODES = {
  // Loading a flow file (reported as file:line:col CODE message, exit 1).
  FLOW_SYNTAX: { status: 500, retryable: false, title: 'Flow file is not valid YAML' },
  FLOW_SCHEMA: { status: 500, retryable: false, title: 'Flow file does not match the flow language' },
  FLOW_ENV: { status: 500, retryable: false, title: 'Environment variable is not set' },
  FLOW_FILE: { status: 500, retryable: false, title: 'Referenced file cannot be read' },
  FLOW_EXPRESSION: { status: 500, retryable: false, title: 'Expression or template does not compile' },
  FLOW_WSDL: { status: 500, retryable: false, title: 'WSDL cannot be read or does not declare what the flow calls' },
  FLOW_REFERENCE: { status: 500, retryable: false, title: 'Reference to something the flow does not declare' },
  // Bad requests at a trigger.
  MALFORMED_BODY: { status: 400, retryable: false, title: 'Body cannot be decoded' },
  HOSTILE_XML: { status: 400, retryable: false, title: 'XML uses a forbidden construct or is nested too deep' },
  VALIDATION: { status: 400, retryable: false, title: 'Body does not match its schema' },
  NOT_FOUND: { status: 404, retryable: false, title: 'No route for this path' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, title: 'Method not allowed on this path' },
  NOT_ACCEPTABLE: { status: 406, retryable: false, title: 'No acceptable response format' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, title: 'Body exceeds the size limit' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, retryable: false, title: 'Content-Type is not accepted' },
  UNAUTHENTICATED: { status: 401, retryable: false, title: 'Credentials are missing or not valid' },
  FORBIDDEN: { status: 403, retryable: false, title: 'Credentials lack a required scope' },
  AUTH_UNAVAILABLE: { status: 503, retryable: true, title: 'Credentials cannot be checked now' },
  RATE_LIMITED: { status: 429, retryable: true, title: 'Too many requests' },
  CORS_REJECTED: { status: 403, retryable: false, title: 'Cross-origin request not allowed' },
  // Raised by the flow itself.
  FAILED: { status: 500, retryable: false, title: 'The flow raised an error' },
  EXPRESSION: { status: 500, retryable: false, title: 'Expression failed at run time' },
  ENCODE: { status: 500, retryable: false, title: 'Value cannot be encoded in the wanted format' },
  ITEMS_NOT_ARRAY: { status: 500, retryable: false, title: 'foreach items are not a list' },
  VAR_CONFLICT: { status: 500, retryable: false, title: 'A parallel branch would overwrite a variable' },
  // Calling other systems.
  TIMEOUT: { status: 504, retryable: true, title: 'Call timed out' },
  DEADLINE_EXCEEDED: { status: 504, retryable: false, title: "The request's time budget is spent" },
  CONNECTION_REFUSED: { status: 502, retryable: true, title: 'Connection refused' },
  CONNECTION_RESET: { status: 502, retryable: true, title: 'Connection reset or closed early' },
  CONNECTION_FAILED: { status: 502, retryable: true, title: 'Connection could not be made' },
  TLS_FAILED: { status: 502, retryable: false, title: 'TLS handshake with the upstream failed' },
  UPSTREAM_STATUS: { status: 502, retryable: false, title: 'Upstream answered with an error status' },
  UPSTREAM_MALFORMED: { status: 502, retryable: false, title: 'Upstream answer cannot be decoded' },
  UPSTREAM_TOO_LARGE: { status: 502, retryable: false, title: "Upstream answer exceeds the endpoint's maxBody" },
  UPSTREAM_AUTH: { status: 502, retryable: false, title: 'Credentials for the upstream could not be obtained' },
  SOAP_FAULT: { status: 502, retryable: false, title: 'SOAP service answered a fault' },
  CIRCUIT_OPEN: { status: 503, retryable: false, title: 'Circuit breaker is open' },
  BULKHEAD_FULL: { status: 503, retryable: false, title: 'Too many calls in flight to the endpoint' },
  // Publishing to brokers.
  UNROUTABLE: { status: 502, retryable: false, title: 'Broker could not route the message to any queue' },
  PUBLISH_REJECTED: { status: 502, retryable: true, title: 'Broker refused to take the message' },
  // Binary RPC.
  THRIFT_EXCEPTION: { status: 502, retryable: false, title: 'Thrift service threw a declared exception' },
  THRIFT_APPLICATION: { status: 502, retryable: false, title: 'Thrift service answered with a TApplicationException' },
  GRPC_STATUS: { status: 502, retryable: false, title: 'gRPC call failed with a status' },
  // The runtime.
  ABORTED: { status: 503, retryable: false, title: 'Work was cancelled' },
  SHUTTING_DOWN: { status: 503, retryable: true, title: 'Process is shutting down' },
  REDELIVERY_LIMIT: { status: 500, retryable: false, title: 'Message was delivered maxDeliveries times without finishing' },
  INTERNAL: { status: 500, retryable: false, title: 'Internal error' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Upper snake case: the shape of every code, built-in or raised by a flow's `fail` step. */
export const CODE_PATTERN = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;

export interface ErrorInit {
  status?: number;
  retryable?: boolean;
  /** Path of the step that failed, e.g. `steps[2].call`. */
  step?: string;
  /** Name of the endpoint that was called. */
  endpoint?: string;
  /** Extra facts the flow may read in `error` (e.g. `upstream` for UPSTREAM_STATUS). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class WeftError extends Error {
  readonly code: string;
  status: number;
  readonly retryable: boolean;
  step: string | undefined;
  endpoint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode | (string & {}), message: string, init: ErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    const info: CodeInfo | undefined = (ERROR_CODES as Record<string, CodeInfo>)[code];
    this.name = 'WeftError';
    this.code = code;
    this.status = init.status ?? info?.status ?? 500;
    this.retryable = init.retryable ?? info?.retryable ?? false;
    this.step = init.step;
    this.endpoint = init.endpoint;
    this.details = init.details;
  }

  /** The view of the error that expressions see as `error`. */
  toContext(): ErrorContext {
    return {
      code: this.code,
      message: this.message,
      status: this.status,
      step: this.step,
      endpoint: this.endpoint,
      ...this.details,
    };
  }

  /** Wraps anything thrown into a WeftError; unknown failures become INTERNAL. */
  static from(err: unknown, fallback: ErrorCode = 'INTERNAL'): WeftError {
    if (err instanceof WeftError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new WeftError(fallback, message, { cause: err });
  }
}

export interface ErrorContext {
  code: string;
  message: string;
  status: number;
  step: string | undefined;
  endpoint: string | undefined;
  [detail: string]: unknown;
}

/** A problem found while loading a flow: where it is and what was expected. */
export interface LoadProblem {
  code: ErrorCode;
  message: string;
  file: string;
  line: number;
  col: number;
}

export function formatProblem(p: LoadProblem): string {
  return `${p.file}:${p.line}:${p.col} ${p.code} ${p.message}`;
}

/** Thrown by the loader with every problem found, so they are reported at once. */
export class FlowLoadError extends Error {
  readonly problems: readonly LoadProblem[];
  constructor(problems: readonly LoadProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'FlowLoadError';
    this.problems = problems;
  }
}
