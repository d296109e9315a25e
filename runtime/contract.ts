/**
 * The types every component implements. A trigger, step or endpoint kind is one definition:
 * its name, a one-line summary, the JSON Schema of its config and a function that turns
 * validated config into something that runs. The same definitions assemble the whole-flow
 * JSON Schema (runtime/flow/schema.ts), so code, validation and docs cannot drift.
 *
 * All expensive work (expression compilation, codec set-up, reference resolution) happens in
 * `compile`/`create`, once, before the port opens. What they return runs per message.
 */
import type { Codec } from './codecs/codec.ts';
import type { Cancellation } from './engine/cancellation.ts';
import type { BulkheadSnapshot } from './engine/policies/bulkhead.ts';
import type { CircuitSnapshot } from './engine/policies/circuit-breaker.ts';
import type { ErrorCode } from './errors.ts';
import type { Exchange } from './engine/exchange.ts';
import type { Expression } from './expr/expression.ts';
import type { Template } from './expr/template.ts';
import type { Logger } from './log.ts';
import type { SchemaSet } from './schemas/schema-set.ts';

/** A JSON Schema (draft-07) fragment. */
export type JSONSchema = { [keyword: string]: unknown };

export interface Spec {
  /** The key that names the component in a flow: `call`, `http`, `transform`, ... */
  readonly name: string;
  /** One line for docs and editor hovers. */
  readonly summary: string;
  /**
   * Schema of the component's config. For steps it describes the whole step object (the
   * step's key and its sibling options); for triggers and endpoints the value under the key.
   */
  readonly schema: JSONSchema;
}

/** A compiled step: runs against one message. Throws WeftError to fail. */
export type StepFn = (ex: Exchange) => void | Promise<void>;

export interface StepDef<C = Record<string, unknown>> extends Spec {
  compile(config: C, at: CompileContext): StepFn;
}

/** Start, stop and health of anything that holds connections or listens. */
export interface Lifecycle {
  start(): Promise<void>;
  /** Stops gracefully: finish what is in flight until `deadline` aborts, then release. */
  stop(deadline: AbortSignal): Promise<void>;
  health(): Health;
}

export interface Health {
  ok: boolean;
  detail?: string;
  /** State of the endpoint's resilience policies (circuit breaker, bulkhead), when configured. */
  policies?: PolicyHealth;
}

export interface PolicyHealth {
  circuit?: CircuitSnapshot;
  bulkhead?: BulkheadSnapshot;
}

/** What a `call` step asks of an endpoint; the keys a flow writes beside `call:`. */
export interface CallConfig {
  call: string;
  operation?: string;
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: unknown;
  args?: unknown;
  as?: string;
}

/** The answer of an endpoint call: decoded lazily by whoever reads it. */
export interface CallResult {
  /** Raw bytes and the codec that decodes them, when the answer has a body. */
  raw?: Uint8Array;
  codec?: Codec;
  /** Already-decoded value, for protocols that decode themselves. */
  value?: unknown;
  status?: number;
  headers?: Record<string, string>;
}

/**
 * One prepared call: everything that can be resolved at load time already is. `cancel` fires
 * when the call must stop (its time limit, a failed sibling): the connector stops its I/O and
 * rejects; what the failure means is the endpoint policy's business.
 */
export type PreparedCall = (ex: Exchange, cancel: Cancellation | undefined) => Promise<CallResult>;

export interface Endpoint extends Lifecycle {
  readonly name: string;
  readonly kind: string;
  /** Compiles the options of one `call` step against this endpoint (load time). */
  prepare(call: CallConfig, at: CompileContext): PreparedCall;
  /**
   * Whether trying this call twice has the effect of trying it once (GET, PUT, DELETE...).
   * Retry policies retry only idempotent calls unless told otherwise; absent means no.
   */
  idempotent?(call: CallConfig): boolean;
  /** Present on broker endpoints (amqp, mqtt, nats): what `publish` and dead letters send to. */
  readonly publisher?: Publisher;
}

/** One message handed to a broker: already encoded, key and headers already rendered. */
export interface OutboundMessage {
  /** Routing key (AMQP), topic (MQTT) or subject (NATS). */
  key: string;
  payload: string | Uint8Array;
  contentType: string | undefined;
  headers: Record<string, string>;
  /** Correlates the message with the exchange that sent it (the request or message id). */
  correlationId?: string;
}

/**
 * The sending half of a broker endpoint. `send` resolves only once the broker has taken
 * responsibility for the message (publisher confirm, PUBACK, JetStream ack), so a flow that
 * acknowledges its input after a publish never loses the output.
 */
export interface Publisher {
  /** Codec of message bodies a `publish` step encodes (the endpoint's `format`). */
  readonly codec: Codec;
  send(message: OutboundMessage, cancel: Cancellation | undefined): Promise<void>;
}

export interface EndpointDef<C = Record<string, unknown>> extends Spec {
  create(name: string, config: C, at: CompileContext): Endpoint;
}

/** The compiled steps and error handler of a flow: what every trigger runs per message. */
export interface Pipeline {
  /**
   * Runs the steps, then `on_error` if a step failed. Resolves when the message is done;
   * rejects with the WeftError that nothing handled (after on_error ran).
   */
  run(ex: Exchange): Promise<void>;
}

export interface Trigger extends Lifecycle {
  /** A one-line description for the startup log, e.g. `GET /hello/:name`. */
  readonly describe: string;
  /** Where the trigger listens once started (for tests and logs). */
  address(): string | undefined;
  /** What the trigger exposes, for the flow's OpenAPI document; absent for non-HTTP triggers. */
  describeApi?(): ApiDescription;
}

/** A trigger's part of the OpenAPI 3.1 document: its path items and the schemas they reference. */
export interface ApiDescription {
  paths: Record<string, JSONSchema>;
  schemas: Record<string, JSONSchema>;
  /** OpenAPI securitySchemes the paths refer to (the http trigger's `auth`). */
  securitySchemes?: Record<string, JSONSchema>;
}

export interface TriggerDef<C = Record<string, unknown>> extends Spec {
  /**
   * Set by triggers whose messages nobody waits on (a timer): why a `respond` step makes no
   * sense there. The compiler then reports every `respond` of the flow as a load error.
   */
  readonly refusesRespond?: string;
  create(config: C, at: CompileContext, pipeline: Pipeline, runtime: RuntimeServices): Trigger;
}

/** Process-level things a trigger needs: where to listen, the logger, in-flight tracking. */
export interface RuntimeServices {
  readonly log: Logger;
  readonly port: number;
  readonly host: string;
  /** Exchanges in flight, for graceful drain; triggers add and remove. */
  readonly inflight: InflightTracker;
  /** Aborted when the process starts to drain. */
  readonly draining: AbortSignal;
  /** Where triggers and endpoint policies report what they did (Prometheus on the admin port). */
  readonly metrics?: RuntimeMetrics;
}

export interface RuntimeMetrics {
  readonly requests: RequestObserver;
  readonly calls: CallObserver;
  /** For a trigger's `auth`: one call per refused request. */
  readonly auth?: AuthObserver;
  /** For a trigger's `rateLimit`: one call per refused request. */
  readonly rateLimit?: RateLimitObserver;
  /** For the timer trigger; its series exist only in flows that ask for them. */
  timerRuns?(): TimerObserver;
}

/** A trigger's `rateLimit` reports each request it refused, by route. */
export interface RateLimitObserver {
  rejected(route: string): void;
}

/** The timer trigger reports each run (outcome `ok` or the error code) and each skipped tick. */
export interface TimerObserver {
  ran(outcome: string, seconds: number): void;
  skipped(): void;
}

/** A trigger's `auth` reports each refused request: its scheme and a reason from a fixed set. */
export interface AuthObserver {
  rejected(scheme: string, reason: string): void;
}

/** A trigger reports each answered request: its route template (never the raw path), method, status. */
export interface RequestObserver {
  observe(route: string, method: string, status: number, seconds: number): void;
}

/** Endpoint policies report each finished call; `code` is the error code, undefined on success. */
export interface CallObserver {
  observe(endpoint: string, kind: string, code: string | undefined, seconds: number): void;
  /** A retry policy is about to try a call again after a failure with `code`. */
  retried?(endpoint: string, code: string): void;
}

export interface InflightTracker {
  enter(): void;
  leave(): void;
  readonly count: number;
}

/** The flow as the compiler sees it, once validated. */
export interface FlowInfo {
  readonly name: string;
  readonly file: string;
  readonly dir: string;
  /** The environment the flow was loaded with: `${env.X}` at load, `env` in expressions. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Handed to every compile/create call. Knows where in the flow file the component sits, so
 * anything it reports carries file:line:col, and collects problems instead of throwing, so
 * a user sees every mistake at once.
 */
export interface CompileContext {
  readonly flow: FlowInfo;
  /** The flow's logger, for components that log outside a message (connection state). */
  readonly log: Logger;
  /** Path of this component in the flow, e.g. `steps[2]`; becomes `error.step`. */
  readonly path: string;
  /** A context for a child: `at.child('steps', 0)`. */
  child(...segments: (string | number)[]): CompileContext;
  /** Records a load problem at this component (or at its `key`). */
  problem(code: ErrorCode, message: string, key?: string | number): void;
  /** Compiles a JSONata expression found under `key`; problems are recorded, never thrown. */
  expression(source: unknown, key: string | number): Expression;
  /** Compiles a `${}` template found under `key`. */
  template(source: string, key: string | number): Template;
  /** Compiles a nested list of steps found under `key` (choice branches, try, ...) into one. */
  steps(list: readonly Record<string, unknown>[] | undefined, key: string | number): StepFn;
  /** Resolves an endpoint declared under `endpoints:`. */
  endpoint(name: string, key: string | number): Endpoint | undefined;
  /** The flow's loaded `schemas:` (ProtoBuf and Thrift types by name). */
  readonly schemas: SchemaSet;
  /** Resolves a file relative to the flow file; records FLOW_FILE when it cannot be read. */
  file(relative: string, key: string | number): string | undefined;
  /**
   * As `file`, for a file that holds a secret (a private key, a password): it is listed apart
   * from the flow's other files, so deployment puts it in a Secret, never in a ConfigMap.
   */
  secretFile(relative: string, key: string | number): string | undefined;
}
