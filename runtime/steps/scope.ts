/**
 * Rules for steps that run inside a child exchange (parallel branches, foreach items): they
 * run beside other pieces of the same message, so none of them may answer the request; only
 * the flow does, after the pieces are gathered.
 */
import type { CompileContext } from '../contract.ts';
import type { Deadline } from '../engine/exchange.ts';
import { performance } from 'node:perf_hooks';

/** Why a piece of a fan-out (`where`: a parallel branch, foreach) may not answer. */
export function insidePiece(where: string): string {
  return `inside ${where}: pieces run side by side and only the flow answers; leave the result in the body and respond after the step`;
}

/** Reports, at its position, every `respond` nested anywhere in `value`: `respond is not allowed <why>`. */
export function forbidRespond(value: unknown, at: CompileContext, why: string): void {
  const walk = (v: unknown, ctx: CompileContext, depth: number): void => {
    if (depth > 64 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, ctx.child(i), depth + 1));
      return;
    }
    for (const [key, inner] of Object.entries(v)) {
      if (key === 'respond') {
        ctx.problem('FLOW_SCHEMA', `respond is not allowed ${why}`, key);
      }
      walk(inner, ctx.child(key), depth + 1);
    }
  };
  walk(value, at, 0);
}

/** The sooner of the message's deadline and `ms` from now. */
export function soonerDeadline(current: Deadline | undefined, ms: number | undefined, what: string): Deadline | undefined {
  if (ms === undefined) return current;
  const at = performance.now() + ms;
  return current !== undefined && current.at <= at ? current : { at, what };
}
