import type { Sample } from './load';

/** Numbers over time and over phases, computed from the recorded client samples. */

export interface LatencySummary {
  readonly count: number;
  readonly p50: number | null;
  readonly p90: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface Bucket {
  /** Start of the bucket, seconds since the load started. */
  readonly t: number;
  readonly requests: number;
  readonly ok: number;
  readonly failed: number;
  readonly zeroLength: number;
  /** Share of requests that succeeded, 0-1 (null without requests). */
  readonly successRate: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
  /** Responses per target (x-served-by, or x-region behind the router). */
  readonly byTarget: Readonly<Record<string, number>>;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  /** Responses a fault touched (x-fault-injected). */
  readonly faulted: number;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return Math.round(sorted[rank] * 10) / 10;
}

export function summarizeLatency(samples: readonly Sample[]): LatencySummary {
  const latencies = samples
    .map((sample) => sample.latencyMs)
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  return {
    count: latencies.length,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  };
}

/** Who answered: the region behind a router, else the target. */
export function answeredBy(sample: Sample): string | undefined {
  if (sample.region && sample.target) return `${sample.region}/${sample.target}`;
  return sample.region ?? sample.target;
}

export function buildSeries(
  samples: readonly Sample[],
  startedAt: number,
  endedAt: number,
  bucketMs: number,
): Bucket[] {
  const count = Math.max(1, Math.ceil((endedAt - startedAt) / bucketMs));
  const groups: Sample[][] = Array.from({ length: count }, () => []);
  for (const sample of samples) {
    const index = Math.floor((sample.at - startedAt) / bucketMs);
    if (index >= 0 && index < count) groups[index].push(sample);
  }
  return groups.map((group, index) => {
    const latency = summarizeLatency(group);
    const byTarget: Record<string, number> = {};
    for (const sample of group) {
      const who = sample.region ?? sample.target;
      if (who) byTarget[who] = (byTarget[who] ?? 0) + 1;
    }
    const ok = group.filter((sample) => sample.ok).length;
    return {
      t: Math.round((index * bucketMs) / 100) / 10,
      requests: group.length,
      ok,
      failed: group.length - ok,
      zeroLength: group.filter((sample) => sample.zeroLength).length,
      successRate: group.length === 0 ? null : ok / group.length,
      p50: latency.p50,
      p99: latency.p99,
      max: latency.max,
      byTarget,
      cacheHits: group.filter((sample) => sample.cache === 'HIT').length,
      cacheMisses: group.filter((sample) => sample.cache === 'MISS').length,
      faulted: group.filter((sample) => sample.fault !== undefined).length,
    };
  });
}

export const inWindow = (samples: readonly Sample[], from: number, to: number) =>
  samples.filter((sample) => sample.at >= from && sample.at < to);

/**
 * The start of the first window (stepping by half a window from `from`) that satisfies
 * `healthy`, and whose next window does too, so one lucky second does not count as recovery.
 */
export function firstSettledWindow(
  samples: readonly Sample[],
  from: number,
  until: number,
  windowMs: number,
  healthy: (window: readonly Sample[]) => boolean,
): number | undefined {
  const step = windowMs / 2;
  for (let start = from; start + 2 * windowMs <= until; start += step) {
    const first = inWindow(samples, start, start + windowMs);
    const second = inWindow(samples, start + windowMs, start + 2 * windowMs);
    if (first.length > 0 && second.length > 0 && healthy(first) && healthy(second)) return start;
  }
  return undefined;
}

/** Share of cached reads that hit, or null when no read reported its cache outcome. */
export function cacheHitRatio(samples: readonly Sample[]): number | null {
  const reads = samples.filter((sample) => sample.cache !== undefined);
  if (reads.length === 0) return null;
  return reads.filter((sample) => sample.cache === 'HIT').length / reads.length;
}
