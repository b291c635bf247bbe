export interface ResponseWindowOptions {
  /**
   * Length of the sliding window.
   * @default 30
   */
  readonly windowSeconds?: number;
  /**
   * Share of bad (zero-length or malformed) responses at or above which the task ejects itself.
   * @default 0.2
   */
  readonly threshold?: number;
  /**
   * Fewer responses than this in the window never eject (one bad response of two is noise).
   * @default 20
   */
  readonly minResponses?: number;
}

export interface WindowStats {
  readonly total: number;
  readonly bad: number;
  readonly windowSeconds: number;
  readonly threshold: number;
  readonly ejected: boolean;
}

/**
 * Counts real responses and bad ones over a sliding window of one-second buckets. When the share
 * of bad ones passes the threshold, readiness fails and the load balancer stops sending traffic:
 * a task answering empty 200s very fast must not win ever more of it.
 */
export class ResponseWindow {
  private readonly windowSeconds: number;
  private readonly threshold: number;
  private readonly minResponses: number;
  private readonly totals: Uint32Array;
  private readonly bads: Uint32Array;
  private readonly seconds: Float64Array;

  constructor(
    options: ResponseWindowOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.windowSeconds = options.windowSeconds ?? 30;
    this.threshold = options.threshold ?? 0.2;
    this.minResponses = options.minResponses ?? 20;
    this.totals = new Uint32Array(this.windowSeconds);
    this.bads = new Uint32Array(this.windowSeconds);
    this.seconds = new Float64Array(this.windowSeconds).fill(-1);
  }

  record(bad: boolean): void {
    const second = Math.floor(this.now() / 1000);
    const slot = second % this.windowSeconds;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.totals[slot] = 0;
      this.bads[slot] = 0;
    }
    this.totals[slot] += 1;
    if (bad) this.bads[slot] += 1;
  }

  stats(): WindowStats {
    const oldest = Math.floor(this.now() / 1000) - this.windowSeconds + 1;
    let total = 0;
    let bad = 0;
    for (let slot = 0; slot < this.windowSeconds; slot += 1) {
      if (this.seconds[slot] >= oldest) {
        total += this.totals[slot];
        bad += this.bads[slot];
      }
    }
    const ejected = total >= this.minResponses && bad / total >= this.threshold;
    return { total, bad, windowSeconds: this.windowSeconds, threshold: this.threshold, ejected };
  }
}
