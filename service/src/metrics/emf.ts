import type { FastifyBaseLogger } from 'fastify';

import type { DependencyName, DependencyOutcome } from '../dependencies/outcome';

/**
 * CloudWatch Embedded Metric Format: a JSON log line with an `_aws` directive becomes metrics when
 * CloudWatch Logs ingests it. The service writes them through its one pino logger, aggregated in
 * memory and flushed every interval (request metrics: request-metrics.ts; dependency calls: here),
 * so metrics cost no log line per request.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export interface MetricsContext {
  readonly namespace: string;
  readonly region: string;
}

export type MetricsLog = Pick<FastifyBaseLogger, 'info'>;

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
