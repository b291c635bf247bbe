export interface ResponseWindowOptions {
  /**
   * Length of the sliding window.
   * @default 30
   */
  readonly windowSeconds?: number;
  /**
   * Share of bad (zero-length or malformed) API responses at or above which the task ejects itself.
   * @default 0.2
   */
  readonly threshold?: number;
  /**
   * Fewer API responses than this in the window never eject (one bad response of two is noise).
   * @default 20
   */
  readonly minResponses?: number;
  /**
   * Shortest time a task stays ejected, counted from its last bad response: it doubles with every
   * ejection that follows a readmission within `forgiveSeconds` (a task that keeps failing stays
   * out longer each time), up to `maxHoldSeconds`.
   * @default 30
   */
  readonly holdSeconds?: number;
  /**
   * Longest hold, however often the task was ejected.
   * @default 600
   */
  readonly maxHoldSeconds?: number;
  /**
   * Time in service without an ejection after which the doubling starts again from `holdSeconds`.
   * @default 600
   */
  readonly forgiveSeconds?: number;
  /**
   * Consecutive good API responses that end a hold early: an ejected task that still gets traffic
   * (the load balancer fails open when every target is unhealthy) and serves it well is back.
   * @default 50
   */
  readonly readmitAfterGoodResponses?: number;
}

/** The self-ejection state machine: `in-service` -> `ejected` -> `in-service`. */
export type EjectionState = 'in-service' | 'ejected';

export interface WindowStats {
  readonly state: EjectionState;
  /** API responses counted in the window (in service), or since the ejection (ejected). */
  readonly total: number;
  readonly bad: number;
  readonly windowSeconds: number;
  readonly threshold: number;
  readonly ejected: boolean;
  /** Why the task is ejected and what brings it back; undefined in service. */
  readonly reason?: string;
  /** Ejections in a row (each readmission followed by another within `forgiveSeconds`). */
  readonly ejections: number;
  /** While ejected: seconds until the hold ends if no bad response comes. */
  readonly holdRemainingSeconds?: number;
  /** While ejected: consecutive good API responses so far. */
  readonly goodStreak?: number;
}

interface Ejection {
  /** What the window held when the task ejected itself. */
  readonly bad: number;
  readonly total: number;
  readonly holdMs: number;
  /** Epoch ms of the ejection or of the last bad response since, whichever is later. */
  lastBadAt: number;
  goodStreak: number;
}

/**
 * Self-ejection with hysteresis. In service, counts API responses and bad ones over a sliding
 * window of one-second buckets; when the share of bad ones reaches the threshold, the task ejects
 * itself (readiness fails, the load balancer stops sending traffic). Once ejected it stays out
 * until a hold time has passed since its last bad response, or until it has served enough good
 * responses in a row; an empty window alone (no traffic, because it was ejected) never brings it
 * back. Each ejection soon after a readmission doubles the hold, so a partly broken task spends
 * ever less time in service instead of cycling in and out.
 *
 * Transitions (evaluated on every `record` and `stats`, one place each):
 *   in-service --(bad share >= threshold, >= minResponses)--> ejected
 *   ejected    --(hold passed since last bad, or goodStreak >= readmitAfter)--> in-service
 */
export class ResponseWindow {
  private readonly windowSeconds: number;
  private readonly threshold: number;
  private readonly minResponses: number;
  private readonly holdMs: number;
  private readonly maxHoldMs: number;
  private readonly forgiveMs: number;
  private readonly readmitAfter: number;
  private readonly totals: Uint32Array;
  private readonly bads: Uint32Array;
  private readonly seconds: Float64Array;
  /** The second of the latest bad response in the buckets: none in the window, no ejection. */
  private lastBadSecond = Number.NEGATIVE_INFINITY;
  private ejection: Ejection | undefined;
  private ejections = 0;
  private readmittedAt = Number.NEGATIVE_INFINITY;

  constructor(
    options: ResponseWindowOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.windowSeconds = options.windowSeconds ?? 30;
    this.threshold = options.threshold ?? 0.2;
    this.minResponses = options.minResponses ?? 20;
    this.holdMs = (options.holdSeconds ?? 30) * 1000;
    this.maxHoldMs = Math.max(this.holdMs, (options.maxHoldSeconds ?? 600) * 1000);
    this.forgiveMs = (options.forgiveSeconds ?? 600) * 1000;
    this.readmitAfter = options.readmitAfterGoodResponses ?? 50;
    this.totals = new Uint32Array(this.windowSeconds);
    this.bads = new Uint32Array(this.windowSeconds);
    this.seconds = new Float64Array(this.windowSeconds).fill(-1);
  }

  /** Counts one API response (the caller decides which responses count). */
  record(bad: boolean): void {
    const now = this.now();
    this.advance(now);
    if (this.ejection) {
      if (bad) {
        this.ejection.lastBadAt = now;
        this.ejection.goodStreak = 0;
      } else {
        this.ejection.goodStreak += 1;
      }
      this.advance(now);
      return;
    }
    const second = Math.floor(now / 1000);
    const slot = second % this.windowSeconds;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.totals[slot] = 0;
      this.bads[slot] = 0;
    }
    this.totals[slot] += 1;
    if (bad) {
      this.bads[slot] += 1;
      this.lastBadSecond = second;
    }
    this.advance(now);
  }

  stats(): WindowStats {
    const now = this.now();
    this.advance(now);
    const common = { windowSeconds: this.windowSeconds, threshold: this.threshold };
    const ejection = this.ejection;
    if (!ejection) {
      const { total, bad } = this.sum(now);
      return {
        ...common,
        state: 'in-service',
        total,
        bad,
        ejected: false,
        ejections: this.ejections,
      };
    }
    const remainingMs = Math.max(0, ejection.lastBadAt + ejection.holdMs - now);
    const holdRemainingSeconds = Math.ceil(remainingMs / 1000);
    return {
      ...common,
      state: 'ejected',
      total: ejection.total,
      bad: ejection.bad,
      ejected: true,
      ejections: this.ejections,
      holdRemainingSeconds,
      goodStreak: ejection.goodStreak,
      reason:
        `self-ejected: ${ejection.bad} of ${ejection.total} API responses in ${this.windowSeconds}s ` +
        `were zero-length or malformed (ejection ${this.ejections} in a row, hold ${ejection.holdMs / 1000}s); ` +
        `ready again ${holdRemainingSeconds}s after the last bad response, or after ` +
        `${this.readmitAfter} good API responses in a row (${ejection.goodStreak} so far)`,
    };
  }

  /** Applies the transition the current state allows, if its condition holds. */
  private advance(now: number): void {
    if (this.ejection) {
      const holdEnds = this.ejection.lastBadAt + this.ejection.holdMs;
      const held = now >= holdEnds;
      if (held || this.ejection.goodStreak >= this.readmitAfter) {
        // ejected -> in-service: the window starts empty, so old bad responses do not count twice.
        // Readmitted when the hold ended, even if nobody looked until later.
        this.ejection = undefined;
        this.readmittedAt = held ? holdEnds : now;
        this.totals.fill(0);
        this.bads.fill(0);
        this.seconds.fill(-1);
        this.lastBadSecond = Number.NEGATIVE_INFINITY;
      }
      return;
    }
    // No bad response in the window: its share is 0, below any threshold above 0. This spares a
    // sum over every bucket on each good response, which is nearly every response.
    if (this.lastBadSecond < this.oldestSecond(now) && this.threshold > 0) return;
    const { total, bad } = this.sum(now);
    if (total >= this.minResponses && bad / total >= this.threshold) {
      // in-service -> ejected
      this.ejections = now - this.readmittedAt < this.forgiveMs ? this.ejections + 1 : 1;
      const holdMs = Math.min(this.maxHoldMs, this.holdMs * 2 ** (this.ejections - 1));
      this.ejection = { bad, total, holdMs, lastBadAt: now, goodStreak: 0 };
    }
  }

  /** The first whole second the window still holds at `now`. */
  private oldestSecond(now: number): number {
    return Math.floor(now / 1000) - this.windowSeconds + 1;
  }

  private sum(now: number): { total: number; bad: number } {
    const oldest = this.oldestSecond(now);
    let total = 0;
    let bad = 0;
    for (let slot = 0; slot < this.windowSeconds; slot += 1) {
      if (this.seconds[slot] >= oldest) {
        total += this.totals[slot];
        bad += this.bads[slot];
      }
    }
    return { total, bad };
  }
}
