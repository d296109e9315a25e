/** Durations (`250ms`, `2s`, `1m`, `1h`) and sizes (`512kb`, `1mb`) as flows write them. */

export const DURATION_PATTERN = '^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$';
export const SIZE_PATTERN = '^[0-9]+(\\.[0-9]+)?(b|kb|mb|gb)$';

const DURATION_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const SIZE_BYTES = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

/** A number is taken as milliseconds. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$/.exec(value);
  if (!m) throw new Error(`not a duration: ${value}`);
  return Math.round(Number(m[1]) * DURATION_MS[m[2] as keyof typeof DURATION_MS]);
}

/** A number is taken as bytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') return value;
  const m = /^([0-9]+(?:\.[0-9]+)?)(b|kb|mb|gb)$/i.exec(value);
  if (!m) throw new Error(`not a size: ${value}`);
  return Math.floor(Number(m[1]) * SIZE_BYTES[m[2].toLowerCase() as keyof typeof SIZE_BYTES]);
}

/** Schema fragments shared by every spec that takes a duration or a size. */
export const durationSchema = {
  type: ['string', 'integer'],
  pattern: DURATION_PATTERN,
  minimum: 0,
  description: 'A duration: 250ms, 2s, 1m, 1h, or a number of milliseconds.',
} as const;

export const sizeSchema = {
  type: ['string', 'integer'],
  pattern: SIZE_PATTERN,
  minimum: 0,
  description: 'A size: 512kb, 1mb, or a number of bytes.',
} as const;
