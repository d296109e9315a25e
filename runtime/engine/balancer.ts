/**
 * Client-side balancing over several equivalent targets (the `urls` of an endpoint): round
 * robin, with outlier ejection (Envoy's term): a target that fails `failures` times in a row
 * is left out for `cooldown`, then re-admitted with a clean record. When every target is
 * ejected, the one whose cool-down ends first is used anyway: trying is better than failing
 * without a call. Any connector with several addresses can use it.
 */
import { parseDuration } from '../units.ts';

export interface OutlierConfig {
  failures?: number;
  cooldown?: string | number;
}

export const outlierSchema = {
  type: 'object',
  description: 'Outlier ejection when balancing over several URLs.',
  properties: {
    failures: { type: 'integer', minimum: 1, description: 'Consecutive failures that eject a target. Default 5.' },
    cooldown: { $ref: '#/definitions/duration', description: 'How long an ejected target is left out. Default 30s.' },
  },
  additionalProperties: false,
} as const;

export interface Member<T> {
  readonly target: T;
  /** Consecutive failures so far. */
  failures: number;
  /** Time (ms since epoch) until which the target is left out; 0 when admitted. */
  ejectedUntil: number;
}

export class Balancer<T> {
  readonly members: readonly Member<T>[];
  readonly #ejectAfter: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  #next = 0;

  constructor(targets: readonly T[], config: OutlierConfig = {}, now: () => number = Date.now) {
    this.members = targets.map((target) => ({ target, failures: 0, ejectedUntil: 0 }));
    this.#ejectAfter = config.failures ?? 5;
    this.#cooldownMs = config.cooldown === undefined ? 30_000 : parseDuration(config.cooldown);
    this.#now = now;
  }

  pick(): Member<T> {
    const members = this.members;
    if (members.length === 1) return members[0];
    const now = this.#now();
    for (let i = 0; i < members.length; i++) {
      const m = members[this.#next++ % members.length];
      if (m.ejectedUntil <= now) {
        if (m.ejectedUntil !== 0) m.ejectedUntil = 0; // cool-down over: re-admitted
        return m;
      }
    }
    let soonest = members[0];
    for (const m of members) if (m.ejectedUntil < soonest.ejectedUntil) soonest = m;
    return soonest;
  }

  success(m: Member<T>): void {
    m.failures = 0;
  }

  failure(m: Member<T>): void {
    if (++m.failures >= this.#ejectAfter && this.members.length > 1) {
      m.ejectedUntil = this.#now() + this.#cooldownMs;
      m.failures = 0;
    }
  }

  /** Targets currently left out, for health. */
  ejected(): T[] {
    const now = this.#now();
    return this.members.filter((m) => m.ejectedUntil > now).map((m) => m.target);
  }
}
