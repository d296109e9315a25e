/**
 * `circuitBreaker`: after `failures` consecutive upstream failures the circuit opens and calls
 * fail at once with CIRCUIT_OPEN, sparing a struggling upstream and the caller's time. After
 * `resetAfter` it is half-open: `halfOpenCalls` trial calls go through (others still fail
 * fast); a trial that succeeds closes the circuit, one that fails opens it again.
 */
import type { PreparedCall } from '../../contract.ts';
import { WeftError } from '../../errors.ts';
import { parseDuration } from '../../units.ts';
import { isUpstreamFailure } from './failure.ts';

export interface CircuitBreakerConfig {
  failures?: number;
  resetAfter?: string | number;
  halfOpenCalls?: number;
}

export const circuitBreakerSchema = {
  type: 'object',
  description: 'Fail fast with CIRCUIT_OPEN while the upstream keeps failing.',
  properties: {
    failures: { type: 'integer', minimum: 1, description: 'Consecutive failures that open the circuit. Default 5.' },
    resetAfter: { $ref: '#/definitions/duration', description: 'How long it stays open before trial calls. Default 30s.' },
    halfOpenCalls: { type: 'integer', minimum: 1, description: 'Trial calls let through when half-open. Default 1.' },
  },
  additionalProperties: false,
} as const;

export type CircuitState = 'closed' | 'open' | 'half-open';

/** What health and metrics read: the state and how often it changed. */
export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  opened: number;
  rejected: number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #resetMs: number;
  readonly #trials: number;
  readonly #now: () => number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialsInFlight = 0;
  #opened = 0;
  #rejected = 0;

  constructor(config: CircuitBreakerConfig, now: () => number = Date.now) {
    this.#threshold = config.failures ?? 5;
    this.#resetMs = config.resetAfter === undefined ? 30_000 : parseDuration(config.resetAfter);
    this.#trials = config.halfOpenCalls ?? 1;
    this.#now = now;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#resetMs) this.#state = 'half-open';
    return this.#state;
  }

  snapshot(): CircuitSnapshot {
    return { state: this.state, consecutiveFailures: this.#failures, opened: this.#opened, rejected: this.#rejected };
  }

  /** Asks to make a call: 'call', a half-open 'trial', or undefined to fail fast. */
  acquire(): 'call' | 'trial' | undefined {
    const state = this.state;
    if (state === 'closed') return 'call';
    if (state === 'half-open' && this.#trialsInFlight < this.#trials) {
      this.#trialsInFlight++;
      return 'trial';
    }
    this.#rejected++;
    return undefined;
  }

  success(trial: boolean): void {
    if (trial) this.#trialsInFlight--;
    this.#failures = 0;
    if (this.#state === 'half-open') this.#state = 'closed';
  }

  failure(trial: boolean): void {
    if (trial) this.#trialsInFlight--;
    this.#failures++;
    if (this.#state === 'half-open' || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      this.#state = 'open';
      this.#openedAt = this.#now();
      this.#opened++;
    }
  }

  /** A call that ended without telling anything about the upstream (4xx, cancelled). */
  neutral(trial: boolean): void {
    if (trial) this.#trialsInFlight--;
  }
}

export function withCircuitBreaker(call: PreparedCall, breaker: CircuitBreaker, name: string): PreparedCall {
  return async function guarded(ex, cancel) {
    const granted = breaker.acquire();
    if (!granted) throw new WeftError('CIRCUIT_OPEN', `circuit of endpoint ${name} is open after repeated failures`);
    const trial = granted === 'trial';
    try {
      const result = await call(ex, cancel);
      breaker.success(trial);
      return result;
    } catch (err) {
      const cancelled = err instanceof WeftError && err.code === 'ABORTED';
      if (cancelled) breaker.neutral(trial);
      else if (isUpstreamFailure(err)) breaker.failure(trial);
      else breaker.success(trial); // the upstream answered: it is alive
      throw err;
    }
  };
}
