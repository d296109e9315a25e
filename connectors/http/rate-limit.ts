/**
 * The http trigger's `rateLimit`: a token bucket for the route, or one per caller (by address,
 * header or verified claim). Compiled once in the trigger's create(); per request the trigger
 * calls admit(), which takes a token, writes the RateLimit-* headers the answer carries and
 * throws RATE_LIMITED (429, with Retry-After) when the bucket is empty. Keys by address or
 * header are checked before anything else happens to the request; keys by claim right after
 * the trigger's `auth`, which must be there.
 *
 * The headers are those of draft-ietf-httpapi-ratelimit-headers up to -06 (RateLimit-Limit,
 * -Remaining, -Reset, in seconds), the ones clients and gateways read today.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CompileContext, RateLimitObserver } from '../../runtime/contract.ts';
import type { Caller } from '../../runtime/engine/caller.ts';
import { WeftError } from '../../runtime/errors.ts';
import { ref } from '../../runtime/flow/schema-parts.ts';
import { parseDuration } from '../../runtime/units.ts';
import { createTokenBuckets } from './token-buckets.ts';

export interface RateLimitConfig {
  rate: number;
  per?: string | number;
  burst?: number;
  key?: string;
  maxKeys?: number;
}

const DEFAULT_PER_MS = 1000;
const DEFAULT_MAX_KEYS = 10_000;

export const rateLimitSchema = {
  type: 'object',
  description: 'Requests admitted per caller (or for the route): a token bucket; over it, 429 RATE_LIMITED with Retry-After. Per replica.',
  properties: {
    rate: { type: 'integer', minimum: 1, description: 'Requests admitted per `per`, on average.' },
    per: { ...ref.duration, description: 'The period of `rate`. Default 1s.' },
    burst: { type: 'integer', minimum: 1, description: 'Requests admitted at once after a quiet spell (the bucket size). Default `rate`.' },
    key: {
      type: 'string',
      pattern: "^(ip|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+|claim:.+)$",
      'x-weft-expected': 'ip, header:<name> or claim:<name>',
      description: 'One bucket per caller: `ip` (IPv6 by its /64), `header:<name>`, or `claim:<name>` of the verified token (needs `auth`). Default: one bucket for the route.',
    },
    maxKeys: { type: 'integer', minimum: 1, description: 'Callers tracked at most; past it the least recently seen is forgotten. Default 10000.' },
  },
  required: ['rate'],
  additionalProperties: false,
} as const;

export interface RateLimit {
  /** `arrival`: checked before anything else; `caller`: keyed by a claim, checked after `auth`. */
  readonly stage: 'arrival' | 'caller';
  /** Takes a token; writes the RateLimit-* headers into `out`; throws RATE_LIMITED when none is left. */
  admit(req: IncomingMessage, auth: Caller | undefined, out: Record<string, string>): void;
}

export interface RateLimitSetup {
  /** Whether the trigger has `auth` (a claim key needs it). */
  authenticated: boolean;
  /** The route, the label rejections are counted under. */
  route: string;
  observer: RateLimitObserver | undefined;
  /** For tests: milliseconds on a monotonic clock. */
  now?: () => number;
}

export function createRateLimit(config: RateLimitConfig, at: CompileContext, setup: RateLimitSetup): RateLimit {
  const perMs = config.per === undefined ? DEFAULT_PER_MS : parseDuration(config.per);
  if (perMs <= 0) at.problem('FLOW_SCHEMA', '`per` must be longer than 0', 'per');
  const burst = config.burst ?? config.rate;
  const buckets = createTokenBuckets({ rate: config.rate, perMs: Math.max(perMs, 1), burst, maxKeys: config.key === undefined ? 1 : (config.maxKeys ?? DEFAULT_MAX_KEYS), now: setup.now });
  const keyOf = compileKey(config.key, at, setup.authenticated);
  const limit = String(burst);
  const period = config.per === undefined ? '1s' : String(config.per);
  const whose = config.key === undefined ? '' : ` for this ${config.key === 'ip' ? 'address' : config.key.replace(':', ' ')}`;
  const { observer, route } = setup;

  return {
    stage: config.key?.startsWith('claim:') ? 'caller' : 'arrival',
    admit(req, auth, out) {
      const draw = buckets.take(keyOf(req, auth));
      out['ratelimit-limit'] = limit;
      out['ratelimit-remaining'] = String(draw.remaining);
      // Rounded to whole milliseconds first: float noise must not add a second.
      out['ratelimit-reset'] = String(Math.ceil(Math.round(draw.fullInMs) / 1000));
      if (draw.allowed) return;
      // Whole seconds, rounded up: a client that waits exactly this long finds a token.
      const wait = Math.max(1, Math.ceil(Math.round(draw.retryInMs) / 1000));
      out['retry-after'] = String(wait);
      observer?.rejected(route);
      throw new WeftError('RATE_LIMITED', `more than ${config.rate} requests per ${period}${whose}; retry in ${wait} s`);
    },
  };
}

type KeyOf = (req: IncomingMessage, auth: Caller | undefined) => string;

/** Requests without the header or claim share one bucket (the empty key). */
function compileKey(key: string | undefined, at: CompileContext, authenticated: boolean): KeyOf {
  if (key === undefined) return () => '';
  if (key === 'ip') return (req) => addressKey(req.socket.remoteAddress ?? '');
  const colon = key.indexOf(':');
  const name = key.slice(colon + 1);
  if (key.startsWith('header:')) {
    const header = name.toLowerCase();
    return (req) => {
      const v = req.headers[header];
      return v === undefined ? '' : boundedKey(String(v));
    };
  }
  if (!authenticated) at.problem('FLOW_SCHEMA', `key ${key} reads the verified token: the trigger needs \`auth\``, 'key');
  return (_req, auth) => {
    const v = auth?.claims[name];
    return v === undefined || v === null ? '' : boundedKey(typeof v === 'string' ? v : JSON.stringify(v));
  };
}

const LONGEST_KEY = 128;

/**
 * maxKeys bounds how many keys are kept; this bounds their size. A caller chooses a header's
 * value (up to the server's 16 KB of headers): a long one is kept as its SHA-256 instead.
 */
export function boundedKey(value: string): string {
  return value.length <= LONGEST_KEY ? value : createHash('sha256').update(value).digest('base64');
}

/**
 * The bucket key of a peer address: IPv4 as is (also when mapped into IPv6), IPv6 by its /64,
 * since one host commonly holds a whole /64 and could otherwise take a fresh bucket per address.
 */
export function addressKey(address: string): string {
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const zone = address.indexOf('%');
  const bare = zone === -1 ? address : address.slice(0, zone);
  const gap = bare.indexOf('::');
  let groups: string[];
  if (gap === -1) groups = bare.split(':');
  else {
    const head = gap === 0 ? [] : bare.slice(0, gap).split(':');
    const tail = gap + 2 === bare.length ? [] : bare.slice(gap + 2).split(':');
    // A trailing dotted quad stands for two groups.
    const tailGroups = tail.length > 0 && tail[tail.length - 1].includes('.') ? tail.length + 1 : tail.length;
    groups = [...head, ...new Array<string>(Math.max(0, 8 - head.length - tailGroups)).fill('0'), ...tail];
  }
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}
