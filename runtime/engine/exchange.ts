/**
 * One message on its way through a flow. Its public fields are exactly the expression
 * context `{ body, headers, params, query, vars, env, error, flow, auth }`, so expressions evaluate
 * against the exchange itself and nothing is copied per step.
 *
 * The body is kept as bytes with their codec until something reads it, and is decoded once:
 * a flow that passes an upstream answer through unchanged never decodes or re-encodes it.
 */
import type { Codec } from '../codecs/codec.ts';
import type { ErrorContext } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Cancellation } from './cancellation.ts';
import type { Caller } from './caller.ts';
import { Saga } from './saga.ts';

export interface FlowContext {
  readonly name: string;
}

/** How a message ends when a `respond` step (or the trigger's default) answers it. */
export interface Reply {
  status: number;
  headers: Record<string, string> | undefined;
  /** Set when the reply carries the exchange's current body (maybe still raw). */
  useBody: boolean;
  body: unknown;
  /** Format requested by the respond step; undefined = negotiate. */
  format: string | undefined;
  /** Codecs of typed formats (protobuf, thrift) for the reply's own message or struct type. */
  codecs?: Readonly<Record<string, Codec | undefined>>;
}

export interface ExchangeInit {
  id: string;
  log: Logger;
  env: Readonly<Record<string, string | undefined>>;
  flow: FlowContext;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  query?: Record<string, string | string[]>;
  /** Fires when the message's work is cancelled (a failed parallel sibling, say). */
  cancel?: Cancellation;
  /** The time budget of the whole message (a trigger's `timeout`); calls get what is left. */
  deadline?: Deadline;
}

/**
 * A point in time (performance.now() clock) after which no call may start, and what set it,
 * so an error can say which budget was spent (`the request timeout of 2000 ms`).
 */
export interface Deadline {
  readonly at: number;
  readonly what: string;
}

/** What a child exchange (a parallel branch, a foreach item, a compensation) starts from. */
export interface ForkInit {
  /** The child's body; when the key is absent, the parent's (still undecoded if it was). */
  body?: unknown;
  vars: Record<string, unknown>;
  cancel: Cancellation | undefined;
  deadline: Deadline | undefined;
  /** A compensation runs outside the saga it belongs to: it gets a fresh one. */
  ownSaga?: boolean;
}

export class Exchange {
  headers: Record<string, string>;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  vars: Record<string, unknown> = {};
  readonly env: Readonly<Record<string, string | undefined>>;
  error: ErrorContext | undefined = undefined;
  readonly flow: FlowContext;
  /** The caller the trigger's `auth` verified; undefined without `auth`. */
  auth: Caller | undefined = undefined;

  #value: unknown = undefined;
  /** False while the body exists only as #raw bytes. */
  #decoded = true;
  /** The bytes the current body came from, kept while the body is unchanged (passthrough). */
  #raw: Uint8Array | undefined = undefined;
  #codec: Codec | undefined = undefined;
  #id: string;
  #log: Logger;
  #cancel: Cancellation | undefined;
  #reply: Reply | undefined = undefined;
  #deadline: Deadline | undefined;
  #saga: Saga | undefined = undefined;

  constructor(init: ExchangeInit) {
    this.#id = init.id;
    this.#log = init.log;
    this.env = init.env;
    this.flow = init.flow;
    this.headers = init.headers ?? {};
    this.params = init.params ?? {};
    this.query = init.query ?? {};
    this.#cancel = init.cancel;
    this.#deadline = init.deadline;
  }

  /**
   * A child exchange for work that runs beside or after this one (parallel branches, foreach
   * items, compensations). It shares what belongs to the request (id, log, headers, params,
   * query, the saga of compensations) and owns what each concurrent piece must not race on:
   * its body, its vars (a shallow copy, so writes stay its own), its reply, its cancellation.
   */
  fork(init: ForkInit): Exchange {
    const child = new Exchange({
      id: this.#id,
      log: this.#log,
      env: this.env,
      flow: this.flow,
      headers: this.headers,
      params: this.params,
      query: this.query,
      cancel: init.cancel,
      deadline: init.deadline,
    });
    child.vars = init.vars;
    child.error = this.error;
    child.auth = this.auth;
    if ('body' in init) child.body = init.body;
    else {
      child.#raw = this.#raw;
      child.#codec = this.#codec;
      child.#decoded = this.#decoded;
      child.#value = this.#value;
    }
    if (!init.ownSaga) child.#saga = this.#saga ??= new Saga();
    return child;
  }

  get body(): unknown {
    if (!this.#decoded) {
      this.#value = (this.#codec as Codec).decode(this.#raw as Uint8Array);
      this.#decoded = true;
    }
    return this.#value;
  }

  set body(value: unknown) {
    this.#raw = undefined;
    this.#codec = undefined;
    this.#decoded = true;
    this.#value = value;
  }

  /** Sets the body to bytes that `codec` decodes on first read. */
  setRaw(raw: Uint8Array, codec: Codec): void {
    this.#raw = raw;
    this.#codec = codec;
    this.#decoded = false;
    this.#value = undefined;
  }

  /** Sets a body decoded already, remembering its bytes so an unchanged body is sent as is. */
  setDecoded(raw: Uint8Array, codec: Codec, value: unknown): void {
    this.#raw = raw;
    this.#codec = codec;
    this.#decoded = true;
    this.#value = value;
  }

  /** The body's own bytes when the body is unchanged and they are in `format`: no re-encode. */
  rawIn(format: string): Uint8Array | undefined {
    return this.#raw !== undefined && this.#codec?.format === format ? this.#raw : undefined;
  }

  get id(): string {
    return this.#id;
  }
  get log(): Logger {
    return this.#log;
  }
  get cancel(): Cancellation | undefined {
    return this.#cancel;
  }
  get deadline(): Deadline | undefined {
    return this.#deadline;
  }
  /** Compensations of the calls that succeeded so far; shared with every fork. */
  get saga(): Saga {
    return (this.#saga ??= new Saga());
  }
  /** True when a call registered a compensation (without creating the saga to ask). */
  get hasCompensations(): boolean {
    return this.#saga !== undefined && this.#saga.size > 0;
  }
  get reply(): Reply | undefined {
    return this.#reply;
  }
  /** Ends the flow with this reply; the step runner stops after the current step. */
  respond(reply: Reply): void {
    this.#reply = reply;
  }
}
