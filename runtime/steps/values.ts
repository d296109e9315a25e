/** Small helpers steps share for values that may or may not be promises, and JSONata truth. */

/** Applies fn now when the value is ready, later when it is a promise: no microtask on the fast path. */
export function then<T, R>(value: T | Promise<T>, fn: (v: T) => R): R | Promise<R> {
  return value instanceof Promise ? value.then(fn) : fn(value);
}

/** JSONata's boolean cast ($boolean), so `when:` means what it means in JSONata. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) return v.length === 1 ? truthy(v[0]) : v.some(truthy);
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    case 'object':
      return Object.keys(v as object).length > 0;
    default:
      return false;
  }
}
