import type { MetricsContext, MetricsLog } from './emf';

/** What one finished request adds to the metrics. */
export interface RequestSample {
  /** From the request's arrival to the end of its response, in milliseconds. */
  readonly latencyMs: number;
  readonly responseBytes: number;
  readonly statusCode: number;
  readonly zeroLength: boolean;
  readonly malformed: boolean;
  /** The response guard replaced a bad API body with a 500. */
  readonly guarded: boolean;
  /** The request was shed for overload (503). */
  readonly shed: boolean;
  readonly cache: 'hit' | 'miss' | undefined;
}

/** Latency histogram: bucket i holds values up to SMALLEST_MS * GROWTH^i (2 % apart). */
const SMALLEST_MS = 0.01;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Up to about 100 minutes; anything slower lands in the last bucket (and in the maximum). */
const BUCKETS = 700;

function bucketOf(latencyMs: number): number {
  if (!(latencyMs > SMALLEST_MS)) return 0;
  return Math.min(BUCKETS - 1, Math.ceil(Math.log(latencyMs / SMALLEST_MS) / LOG_GROWTH));
}

function upperBound(bucket: number): number {
  return SMALLEST_MS * GROWTH ** bucket;
}

/** The percentiles written each flush; `p99` means RequestLatencyP99. */
const PERCENTILES = [50, 90, 99] as const;

const COUNTS = [
  'ZeroLengthResponses',
  'MalformedResponses',
  'GuardedResponses',
  'ShedRequests',
  'CacheHits',
  'CacheMisses',
  'Status4xx',
  'Status5xx',
] as const;
type CountName = (typeof COUNTS)[number];

/** The metric definitions of the aggregated line, in the order they are written. */
export const REQUEST_METRIC_DEFINITIONS = [
  { Name: 'Requests', Unit: 'Count' },
  { Name: 'RequestLatency', Unit: 'Milliseconds' },
  ...PERCENTILES.map((p) => ({ Name: `RequestLatencyP${p}`, Unit: 'Milliseconds' })),
  { Name: 'RequestLatencyMax', Unit: 'Milliseconds' },
  { Name: 'ResponseBytes', Unit: 'Bytes' },
  ...COUNTS.map((name) => ({ Name: name, Unit: 'Count' })),
] as const;

/** Rounds to 0.01 ms: below what a histogram bucket or a timer can tell apart. */
function hundredths(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The request metrics of one task, aggregated in memory and written as one CloudWatch EMF line
 * (dimension set `[["Region"]]`) per flush interval, instead of one per request: a request only
 * adds to counters and a latency histogram (no allocation, no I/O).
 *
 * Each line carries, for the interval: `Requests`; the sums `ResponseBytes`, `ZeroLengthResponses`,
 * `MalformedResponses`, `GuardedResponses`, `ShedRequests`, `CacheHits`, `CacheMisses`,
 * `Status4xx`, `Status5xx` (alarms and dashboards read them with the Sum statistic, which adds up
 * the same as per-request lines did); `RequestLatency`, the interval's mean; and
 * `RequestLatencyP50`/`P90`/`P99`/`Max`, this task's percentiles over the interval from a
 * histogram with 2 % wide buckets (a percentile is the upper edge of its bucket, never above the
 * largest value seen). An interval without requests writes nothing.
 *
 * `stop()` flushes what is left; a request recorded after it is written at once, so no request
 * is lost at shutdown. A flush whose write fails keeps its counts for the next flush.
 */
export class RequestMetrics {
  private requests = 0;
  private latencySumMs = 0;
  private latencyMaxMs = 0;
  private responseBytes = 0;
  private readonly counts: Record<CountName, number> = {
    ZeroLengthResponses: 0,
    MalformedResponses: 0,
    GuardedResponses: 0,
    ShedRequests: 0,
    CacheHits: 0,
    CacheMisses: 0,
    Status4xx: 0,
    Status5xx: 0,
  };
  private readonly histogram = new Uint32Array(BUCKETS);
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly context: MetricsContext,
    private readonly log: MetricsLog,
  ) {}

  record(sample: RequestSample): void {
    const latency = sample.latencyMs >= 0 ? sample.latencyMs : 0;
    this.requests += 1;
    this.latencySumMs += latency;
    if (latency > this.latencyMaxMs) this.latencyMaxMs = latency;
    this.histogram[bucketOf(latency)] += 1;
    this.responseBytes += sample.responseBytes;
    const counts = this.counts;
    if (sample.zeroLength) counts.ZeroLengthResponses += 1;
    if (sample.malformed) counts.MalformedResponses += 1;
    if (sample.guarded) counts.GuardedResponses += 1;
    if (sample.shed) counts.ShedRequests += 1;
    if (sample.cache === 'hit') counts.CacheHits += 1;
    else if (sample.cache === 'miss') counts.CacheMisses += 1;
    if (sample.statusCode >= 500) counts.Status5xx += 1;
    else if (sample.statusCode >= 400) counts.Status4xx += 1;
    if (this.stopped) this.flush();
  }

  /** Requests recorded since the last flush. */
  pending(): number {
    return this.requests;
  }

  /** Writes one EMF line for the requests since the last flush; nothing when there were none. */
  flush(timestampMs = Date.now()): void {
    if (this.requests === 0) return;
    const line = this.line(timestampMs);
    try {
      this.log.info(line, 'request metrics');
    } catch {
      // The write failed (the stream is closing): keep the counts for the next flush.
      return;
    }
    this.reset();
  }

  start(intervalMs: number): void {
    if (!Number.isInteger(intervalMs) || intervalMs < 1) {
      throw new Error(
        `the request metrics flush interval must be a whole number of milliseconds of at least 1, got ${intervalMs}`,
      );
    }
    clearInterval(this.timer);
    this.stopped = false;
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left; later requests are written as they finish. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    this.flush();
  }

  private line(timestampMs: number): Record<string, unknown> {
    const percentile = (p: number): number => {
      const rank = Math.ceil((p / 100) * this.requests);
      let seen = 0;
      for (let bucket = 0; bucket < BUCKETS; bucket += 1) {
        seen += this.histogram[bucket];
        if (seen >= rank) return hundredths(Math.min(upperBound(bucket), this.latencyMaxMs));
      }
      return hundredths(this.latencyMaxMs);
    };
    return {
      _aws: {
        Timestamp: timestampMs,
        CloudWatchMetrics: [
          {
            Namespace: this.context.namespace,
            Dimensions: [['Region']],
            Metrics: REQUEST_METRIC_DEFINITIONS,
          },
        ],
      },
      Region: this.context.region,
      Requests: this.requests,
      RequestLatency: hundredths(this.latencySumMs / this.requests),
      ...Object.fromEntries(PERCENTILES.map((p) => [`RequestLatencyP${p}`, percentile(p)])),
      RequestLatencyMax: hundredths(this.latencyMaxMs),
      ResponseBytes: this.responseBytes,
      ...this.counts,
    };
  }

  private reset(): void {
    this.requests = 0;
    this.latencySumMs = 0;
    this.latencyMaxMs = 0;
    this.responseBytes = 0;
    for (const name of COUNTS) this.counts[name] = 0;
    this.histogram.fill(0);
  }
}
