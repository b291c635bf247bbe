/** Which API responses get an access-log line. */
export interface AccessLogOptions {
  /**
   * One line for every this many plain successes (1 logs every request).
   * @default 100
   */
  readonly sampleEvery?: number;
  /**
   * A response at least this slow always gets a line, in milliseconds.
   * @default 1000
   */
  readonly slowMs?: number;
}

/** What the policy reads about a finished response. */
export interface FinishedResponse {
  readonly statusCode: number;
  readonly latencyMs: number;
  /** Zero-length or malformed, as the response guard measured it. */
  readonly bad: boolean;
  /** Refused by the load shedder. */
  readonly shed: boolean;
}

export const ACCESS_LOG_DEFAULTS = { sampleEvery: 100, slowMs: 1000 };

/**
 * The access-log policy: every response an operator has to look at gets a line (a status of 400
 * or above, an empty or malformed body, a shed request, a slow one), and one in `sampleEvery` of
 * the plain successes does.
 *
 * The complete per-request record is elsewhere: the load balancer's access logs (the blueprint
 * turns them on) have every request, and the request metrics (metrics/request-metrics.ts) count
 * every response, successes included. A line per success cost as much CPU as the rest of a cache
 * hit's own work (bench/service.ts), so they are sampled, by count: the first success and every
 * `sampleEvery`-th after it.
 */
export class AccessLogPolicy {
  private readonly sampleEvery: number;
  private readonly slowMs: number;
  private successes = 0;

  constructor(options: AccessLogOptions = {}) {
    this.sampleEvery = options.sampleEvery ?? ACCESS_LOG_DEFAULTS.sampleEvery;
    this.slowMs = options.slowMs ?? ACCESS_LOG_DEFAULTS.slowMs;
    if (!Number.isInteger(this.sampleEvery) || this.sampleEvery < 1) {
      throw new Error(
        `access log: sampleEvery must be a whole number of at least 1 (1 logs every request), got ${this.sampleEvery}`,
      );
    }
    if (!(this.slowMs >= 0)) {
      throw new Error(`access log: slowMs must be a number of at least 0, got ${this.slowMs}`);
    }
  }

  /** Whether this response gets a line. */
  shouldLog(response: FinishedResponse): boolean {
    if (
      response.statusCode >= 400 ||
      response.bad ||
      response.shed ||
      response.latencyMs >= this.slowMs
    ) {
      return true;
    }
    const logged = this.successes % this.sampleEvery === 0;
    this.successes = (this.successes + 1) % this.sampleEvery;
    return logged;
  }
}
