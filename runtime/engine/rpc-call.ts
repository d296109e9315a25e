/**
 * Load-time checks that every RPC endpoint kind (thrift, grpc) applies to the `call` steps
 * that use it: an operation that the service declares, `args` whose literal keys are the
 * operation's parameters, and no REST-only options. Problems are reported at their key.
 */
import type { CallConfig, CallResult, CompileContext } from '../contract.ts';
import { literalObjectKeys } from '../expr/literal-keys.ts';
import { didYouMean } from '../flow/suggest.ts';

const REST_ONLY = ['method', 'path', 'query', 'body'] as const;

/** The operation a call names, or undefined after reporting why there is none. */
export function rpcOperation<O>(call: CallConfig, operations: ReadonlyMap<string, O>, service: string, cat: CompileContext): O | undefined {
  for (const key of REST_ONLY) {
    if (call[key] !== undefined) cat.problem('FLOW_SCHEMA', `${key} is for http endpoints; an RPC call takes operation and args`, key);
  }
  if (call.operation === undefined) {
    cat.problem('FLOW_SCHEMA', `a call to ${call.call} needs \`operation\`: one of ${[...operations.keys()].join(', ')}`, 'call');
    return undefined;
  }
  const found = operations.get(call.operation);
  if (!found) cat.problem('FLOW_REFERENCE', `${service} has no operation '${call.operation}'${didYouMean(call.operation, operations.keys())}`, 'operation');
  return found;
}

/**
 * Checks `args` when it is an object constructor with literal keys: every key a parameter,
 * every required parameter given. Other shapes are checked per message by the encoder.
 */
export function checkRpcArgs(source: unknown, params: readonly string[], required: readonly string[], what: string, cat: CompileContext): void {
  const keys = literalObjectKeys(source);
  if (keys === undefined) return;
  for (const k of keys) {
    if (!params.includes(k)) cat.problem('FLOW_SCHEMA', `${what} has no parameter '${k}'${didYouMean(k, params)} (parameters: ${params.join(', ') || 'none'})`, 'args');
  }
  for (const r of required) {
    if (!keys.includes(r)) cat.problem('FLOW_SCHEMA', `args miss the required parameter '${r}' of ${what}`, 'args');
  }
}

/** The prepared call of a call step whose problems were reported: the flow never runs it. */
export async function unloadable(): Promise<CallResult> {
  throw new Error('unreachable: the flow did not load');
}
