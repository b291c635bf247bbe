import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';

/** One thing a chaos function did, or would do, or refused to do. */
export interface AuditEntry {
  readonly experimentId: string;
  /** e.g. `stop-task`, `write-faults`, `update-service-network`, `acquire-lease`, `refuse`. */
  readonly action: string;
  /** What was acted on: a task id, the service, the parameter, the cache cluster. */
  readonly target: string;
  /** e.g. `done`, `unknown`, `verified-done`, `would-do` (dry run), `refused`. */
  readonly outcome: string;
  readonly detail?: string;
}

/** Records every action: one audit log line and one metric each. */
export interface Audit {
  record(entry: AuditEntry): void;
}

/**
 * The audit trail of a deployed function: a structured log line with `audit: {...}` (searchable in
 * Logs Insights) and a `ChaosAction` count with `action` and `outcome` dimensions, published at once.
 */
export function powertoolsAudit(logger: Logger, metrics: Metrics): Audit {
  return {
    record(entry) {
      logger.info(`chaos ${entry.action} ${entry.outcome}`, { audit: entry });
      const single = metrics.singleMetric();
      single.addDimensions({ action: entry.action, outcome: entry.outcome });
      single.addMetric('ChaosAction', MetricUnit.Count, 1);
    },
  };
}
