/**
 * One message on its way through a flow. Its public fields are exactly the expression
 * context `{ body, headers, params, query, vars, env, error, flow }`, so expressions evaluate
 * against the exchange itself and nothing is copied per step.
 *
 * The body is kept as bytes with their codec until something reads it, and is decoded once:
 * a flow that passes an upstream answer through unchanged never decodes or re-encodes it.
 */
import type { Codec } from '../codecs/codec.ts';
import type { ErrorContext } from '../errors.ts';
import type { Logger } from '../log.ts';

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
  signal?: AbortSignal;
}

export class Exchange {
  headers: Record<string, string>;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  vars: Record<string, unknown> = {};
  readonly env: Readonly<Record<string, string | undefined>>;
  error: ErrorContext | undefined = undefined;
  readonly flow: FlowContext;

  #value: unknown = undefined;
  /** False while the body exists only as #raw bytes. */
  #decoded = true;
  /** The bytes the current body came from, kept while the body is unchanged (passthrough). */
  #raw: Uint8Array | undefined = undefined;
  #codec: Codec | undefined = undefined;
  #id: string;
  #log: Logger;
  #signal: AbortSignal | undefined;
  #reply: Reply | undefined = undefined;

  constructor(init: ExchangeInit) {
    this.#id = init.id;
    this.#log = init.log;
    this.env = init.env;
    this.flow = init.flow;
    this.headers = init.headers ?? {};
    this.params = init.params ?? {};
    this.query = init.query ?? {};
    this.#signal = init.signal;
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
  get signal(): AbortSignal | undefined {
    return this.#signal;
  }
  get reply(): Reply | undefined {
    return this.#reply;
  }
  /** Ends the flow with this reply; the step runner stops after the current step. */
  respond(reply: Reply): void {
    this.#reply = reply;
  }
}
