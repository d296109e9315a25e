import type { CallConfig, CallResult, PreparedCall, StepDef, StepFn } from '../contract.ts';
import type { Exchange } from '../engine/exchange.ts';
import { ref } from '../flow/schema-parts.ts';

interface CallStepConfig extends CallConfig {
  compensate?: Record<string, unknown>[];
}

export const callStep: StepDef<CallStepConfig> = {
  name: 'call',
  summary: 'Calls a declared endpoint; its answer replaces the body, or lands in vars.<as>.',
  schema: {
    type: 'object',
    properties: {
      call: { type: 'string', description: 'Name of an endpoint under `endpoints:`.' },
      operation: { type: 'string', description: 'Operation or method name (SOAP, Thrift, gRPC).' },
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], description: 'HTTP method. Default GET, or POST when `body` is given.' },
      path: { ...ref.template, description: 'Path appended to the endpoint URL; interpolated values are URL-encoded.' },
      query: { ...ref.templateMap, description: 'Query parameters (templates).' },
      headers: { ...ref.templateMap, description: 'Request headers (templates).' },
      body: { ...ref.expression, description: 'Request body. Default: the current body.' },
      args: { ...ref.expression, description: 'Arguments of an RPC operation (Thrift, gRPC).' },
      as: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'Keep the answer in vars.<as> and leave the body unchanged.' },
      compensate: {
        ...ref.steps,
        description: 'Steps that undo this call, run (last call first) when a later step fails; they see body.request, body.result and the vars of the call.',
      },
    },
    required: ['call'],
    additionalProperties: false,
  },
  compile(config, at) {
    const endpoint = at.endpoint(config.call, 'call');
    if (!endpoint) return () => {};
    const prepared = endpoint.prepare(config, at);
    const as = config.as;
    if (config.compensate !== undefined) {
      return compensable(prepared, as, at.steps(config.compensate, 'compensate'), `${at.path}.call`, endpoint.name);
    }
    if (as) {
      return async function callAs(ex) {
        ex.vars[as] = valueOf(await prepared(ex, ex.cancel));
      };
    }
    return async function call(ex) {
      setBody(ex, await prepared(ex, ex.cancel));
    };
  },
};

/**
 * A call that leaves its compensation in the message's saga once it succeeded. The request
 * (the body the call was made from) is read before the call, since the answer may replace it.
 */
function compensable(prepared: PreparedCall, as: string | undefined, steps: StepFn, step: string, endpoint: string): StepFn {
  return async function callWithCompensation(ex) {
    const request = ex.body;
    const result = await prepared(ex, ex.cancel);
    const value = valueOf(result);
    if (as) ex.vars[as] = value;
    else ex.body = value;
    ex.saga.add({ step, endpoint, steps, request, result: value, vars: { ...ex.vars } });
  };
}

/** A call's answer as a value; an answer without a body is null. */
export function valueOf(result: CallResult): unknown {
  if (result.raw !== undefined && result.codec) return result.codec.decode(result.raw);
  return result.value ?? null;
}

/** Replaces the body with a call's answer, keeping raw bytes raw (decoded only if read). */
export function setBody(ex: Exchange, result: CallResult): void {
  if (result.raw !== undefined && result.codec) ex.setRaw(result.raw, result.codec);
  else ex.body = result.value ?? null;
}
