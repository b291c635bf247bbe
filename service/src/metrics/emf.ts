import type { FastifyBaseLogger } from 'fastify';

import type { DependencyName, DependencyOutcome } from '../dependencies/outcome';

/**
 * CloudWatch Embedded Metric Format: a JSON log line with an `_aws` directive becomes metrics when
 * CloudWatch Logs ingests it. The service writes them through its one pino logger, so each request
 * costs one line that is both the structured request log and the metrics.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
type Unit = 'Count' | 'Milliseconds' | 'Bytes';

interface MetricDefinition {
  readonly Name: string;
  readonly Unit: Unit;
}

/** Headline metrics, one value each per request; the alarms use these names. */
export interface RequestMetricValues {
  readonly RequestLatency: number;
  readonly ResponseBytes: number;
  readonly ZeroLengthResponses: number;
  readonly MalformedResponses: number;
  /** Bad API bodies the response guard replaced with a 500. */
  readonly GuardedResponses: number;
  /** API requests shed for overload (503). */
  readonly ShedRequests: number;
  readonly CacheHits: number;
  readonly CacheMisses: number;
  readonly Status4xx: number;
  readonly Status5xx: number;
}

const REQUEST_METRICS: readonly MetricDefinition[] = [
  { Name: 'RequestLatency', Unit: 'Milliseconds' },
  { Name: 'ResponseBytes', Unit: 'Bytes' },
  { Name: 'ZeroLengthResponses', Unit: 'Count' },
  { Name: 'MalformedResponses', Unit: 'Count' },
  { Name: 'GuardedResponses', Unit: 'Count' },
  { Name: 'ShedRequests', Unit: 'Count' },
  { Name: 'CacheHits', Unit: 'Count' },
  { Name: 'CacheMisses', Unit: 'Count' },
  { Name: 'Status4xx', Unit: 'Count' },
  { Name: 'Status5xx', Unit: 'Count' },
];

export interface MetricsContext {
  readonly namespace: string;
  readonly region: string;
}

/** The EMF fields of one request's log line (dimension set `[["Region"]]`). */
export function requestMetricFields(
  context: MetricsContext,
  values: RequestMetricValues,
  timestampMs = Date.now(),
): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        { Namespace: context.namespace, Dimensions: [['Region']], Metrics: REQUEST_METRICS },
      ],
    },
    Region: context.region,
    ...values,
  };
}

type MetricsLog = Pick<FastifyBaseLogger, 'info'>;

/**
 * Counts dependency calls by dependency and outcome and writes them as `DependencyCalls` (dimension
 * set `[["Region","Dependency","Outcome"]]`) every flush interval: a cache call per request would
 * otherwise double the log volume.
 */
export class DependencyMetrics {
  private counts = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly context: MetricsContext,
    private readonly log: MetricsLog,
  ) {}

  record(dependency: DependencyName, outcome: DependencyOutcome): void {
    const key = `${dependency}\u0000${outcome}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Writes one EMF line per (dependency, outcome) seen since the last flush. */
  flush(timestampMs = Date.now()): void {
    const counts = this.counts;
    this.counts = new Map();
    for (const [key, count] of counts) {
      const [dependency, outcome] = key.split('\u0000');
      this.log.info(
        {
          _aws: {
            Timestamp: timestampMs,
            CloudWatchMetrics: [
              {
                Namespace: this.context.namespace,
                Dimensions: [['Region', 'Dependency', 'Outcome']],
                Metrics: [{ Name: 'DependencyCalls', Unit: 'Count' }],
              },
            ],
          },
          Region: this.context.region,
          Dependency: dependency,
          Outcome: outcome,
          DependencyCalls: count,
        },
        'dependency calls',
      );
    }
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.flush(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}
