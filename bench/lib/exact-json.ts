/**
 * JSON.parse that keeps integers beyond 2^53 exact (as BigInt, from their source text), so that
 * comparing two targets' answers cannot pass when one of them rounded an i64 (S5's order id).
 */
type Reviver = (key: string, value: unknown, context: { source?: string }) => unknown;

const exact: Reviver = (_key, value, context) =>
  typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value) && context?.source ? BigInt(context.source) : value;

export function parseExact(text: string): unknown {
  return JSON.parse(text, exact as (key: string, value: unknown) => unknown);
}

/** A canonical text of an answer for equality checks (BigInt as its digits). */
export function canonical(text: string): string {
  return JSON.stringify(parseExact(text), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}
