/**
 * Token buckets by key, for the http trigger's `rateLimit`. Each bucket holds `burst` tokens
 * and gains `rate` per `perMs`; a request takes one. A bucket is kept as one number, the time
 * at which it will be full again (the "theoretical arrival time" of GCRA, the generic cell
 * rate algorithm): the same answers as counting tokens, with no timer and nothing to refill.
 *
 * A bucket that is full again says nothing a new one would not, so forgetting it loses
 * nothing. Memory is bounded by `maxKeys`: past it, the bucket least recently drawn from is
 * forgotten (its caller starts full again), so a client inventing keys cannot grow the map.
 */

export interface BucketOptions {
  /** Tokens gained per `perMs`. */
  rate: number;
  perMs: number;
  /** Tokens a full bucket holds: the most requests that may come at once. */
  burst: number;
  /** Buckets remembered at most. */
  maxKeys: number;
  /** Milliseconds on a monotonic clock; injectable so tests need not wait. */
  now?: () => number;
}

/** What taking a token from a bucket found. */
export interface Draw {
  allowed: boolean;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Milliseconds until the bucket is full again. */
  fullInMs: number;
  /** When refused: milliseconds until a token is there. 0 when allowed. */
  retryInMs: number;
}

export interface TokenBuckets {
  take(key: string): Draw;
  /** Buckets remembered now (never more than maxKeys). */
  readonly size: number;
}

export function createTokenBuckets(options: BucketOptions): TokenBuckets {
  const { burst, maxKeys } = options;
  const now = options.now ?? (() => performance.now());
  // Milliseconds one token takes to come back, and how far ahead of now a bucket's "full at"
  // may lie: an empty bucket is full again after burst tokens' time.
  const interval = options.perMs / options.rate;
  const capacity = burst * interval;
  const fullAt = new Map<string, number>();

  return {
    take(key) {
      const t = now();
      const known = fullAt.get(key);
      const from = known === undefined || known < t ? t : known;
      const next = from + interval;
      const ahead = next - t;
      // The tolerance absorbs float error from adding up intervals such as 1000/3.
      if (ahead > capacity + 1e-6) {
        const left = from - t;
        return { allowed: false, remaining: 0, fullInMs: left, retryInMs: ahead - capacity };
      }
      // Delete then set: Map keeps insertion order, so the first key is the least recently drawn.
      if (known !== undefined) fullAt.delete(key);
      else if (fullAt.size >= maxKeys) fullAt.delete(fullAt.keys().next().value as string);
      fullAt.set(key, next);
      return { allowed: true, remaining: Math.max(0, Math.floor((capacity - ahead) / interval + 1e-6)), fullInMs: ahead, retryInMs: 0 };
    },
    get size() {
      return fullAt.size;
    },
  };
}
