import { BrokenCircuitError } from 'cockatiel';

/**
 * The states of one memcached node's circuit breaker, and the only transitions between them:
 *
 *   closed    --(consecutive failures reach the threshold)-----> open
 *   open      --(halfOpenAfterMs passed; the next call probes)--> half-open
 *   half-open --(the probe succeeds)----------------------------> closed
 *   half-open --(the probe fails)-------------------------------> open (the wait starts again)
 *
 * Closed lets every call through and counts consecutive failures (a success resets the count).
 * Open refuses calls at once. Half-open lets the one probe through and refuses the others while
 * it runs, so a node that comes back is tried by one call, and callers never wait on it: for a
 * cache a refused call is a fast miss.
 */
export type NodeBreakerState = 'closed' | 'open' | 'half-open';

export interface NodeBreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly failureThreshold: number;
  /** How long an open breaker refuses calls before letting one probe through. */
  readonly halfOpenAfterMs: number;
  /** @default Date.now */
  readonly clock?: () => number;
}

export interface NodeBreakerListeners {
  /** closed or half-open -> open. */
  readonly onBreak?: () => void;
  /** open -> half-open: a probe is under way. */
  readonly onHalfOpen?: () => void;
  /** half-open -> closed. */
  readonly onReset?: () => void;
}

/**
 * A consecutive-failure circuit breaker that allocates nothing per call: `admit` before a call,
 * then `succeeded` or `failed` once it has settled. cockatiel's breaker (which this one replaces
 * on the cache's hot path) wraps every call in two async functions and a result object, which
 * cost more than the rest of the breaker's work on a cache hit; its errors are still the ones
 * thrown here, so callers classify failures the same way.
 */
export class NodeBreaker {
  private current: NodeBreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private readonly clock: () => number;

  constructor(
    private readonly options: NodeBreakerOptions,
    private readonly listeners: NodeBreakerListeners = {},
  ) {
    for (const [name, value, least] of [
      ['failureThreshold', options.failureThreshold, 1],
      ['halfOpenAfterMs', options.halfOpenAfterMs, 0],
    ] as const) {
      if (!Number.isInteger(value) || value < least) {
        throw new Error(
          `NodeBreaker: ${name} must be a whole number of at least ${least}, got ${value}`,
        );
      }
    }
    this.clock = options.clock ?? Date.now;
  }

  get state(): NodeBreakerState {
    return this.current;
  }

  /**
   * Whether a call may go ahead now. Undefined when it may; otherwise the error to fail it with
   * (cockatiel's BrokenCircuitError). Taking the probe moves open to half-open.
   */
  admit(): BrokenCircuitError | undefined {
    switch (this.current) {
      case 'closed':
        return undefined;
      case 'half-open':
        return new BrokenCircuitError();
      case 'open':
        if (this.clock() - this.openedAt < this.options.halfOpenAfterMs) {
          return new BrokenCircuitError();
        }
        this.current = 'half-open';
        this.listeners.onHalfOpen?.();
        return undefined;
    }
  }

  /** An admitted call succeeded. */
  succeeded(): void {
    this.failures = 0;
    if (this.current === 'half-open') {
      this.current = 'closed';
      this.listeners.onReset?.();
    }
  }

  /** An admitted call failed (an error or its timeout). */
  failed(): void {
    if (this.current === 'half-open') {
      this.open();
      return;
    }
    if (this.current !== 'closed') return;
    this.failures += 1;
    if (this.failures >= this.options.failureThreshold) this.open();
  }

  private open(): void {
    this.current = 'open';
    this.failures = 0;
    this.openedAt = this.clock();
    this.listeners.onBreak?.();
  }
}
