import type { Context } from 'aws-lambda';

import { CanaryEnv, loadCanaryEnv } from '../shared/env';
import { ChaosError } from '../shared/errors';
import { metrics } from '../shared/metrics';
import { logger } from '../shared/powertools';

import { CanaryReport, metricsSink, parseCanaryEvent, runCanary } from './canary';

let env: CanaryEnv | undefined;

export async function handler(event: unknown, context: Context): Promise<CanaryReport> {
  logger.addContext(context);
  try {
    env ??= loadCanaryEnv();
    const report = await runCanary(parseCanaryEvent(event, env), {
      env,
      sink: metricsSink(metrics),
    });
    for (const r of report.results.filter((x) => !x.ok)) {
      logger.warn(`canary ${r.name} failed: ${r.failure}`, { probe: r });
    }
    return report;
  } catch (error) {
    // A bad environment or event is reported plainly; the missing metrics will alarm.
    if (error instanceof ChaosError)
      throw Object.assign(new Error(`${error.code}: ${error.message}`), { stack: '' });
    // Anything else is ours to fix: logged here, and the caller gets no stack trace.
    logger.error(
      'unexpected failure',
      error instanceof Error ? { error } : { error: String(error) },
    );
    throw Object.assign(
      new Error(
        `INTERNAL: the canary failed unexpectedly; see its logs for request ${context.awsRequestId}`,
      ),
      { stack: '' },
    );
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
