/**
 * deploy-gate: the ECS deployment lifecycle hook. At POST_TEST_TRAFFIC_SHIFT it checks the new
 * revision through the test listener (TEST_LISTENER_URL) with the readiness token (HEALTH_TOKEN)
 * and real API calls, and answers SUCCEEDED or FAILED (ECS rolls back). See hook.ts and gate.ts.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';

import { metrics } from '../shared/metrics';
import { logger } from '../shared/powertools';

import { loadDeployGateEnv, runHook, type HookResponse } from './hook';

export async function handler(event: unknown, context: Context): Promise<HookResponse> {
  logger.resetKeys();
  logger.addContext(context);
  try {
    const outcome = await runHook(event, { loadEnv: () => loadDeployGateEnv() });
    // The audit line: what was decided, on which revision, and why. Never the whole event.
    const audit = {
      action: 'deploy-gate',
      target: outcome.event?.executionDetails.targetServiceRevisionArn ?? '(invalid event)',
      stage: outcome.event?.lifecycleStage,
      executionId: outcome.event?.executionId,
      outcome: outcome.outcome,
      hookStatus: outcome.response.hookStatus,
      detail: outcome.detail.slice(0, 2000),
    };
    if (outcome.response.hookStatus === 'SUCCEEDED') {
      logger.info(`deploy gate ${outcome.outcome}`, { audit });
    } else {
      logger.warn(`deploy gate ${outcome.outcome}: ${audit.detail}`, {
        audit,
        checks: outcome.verdict?.checks.filter((check) => !check.ok),
      });
    }
    metrics.addDimension('outcome', outcome.outcome);
    metrics.addMetric('DeployGateVerdict', MetricUnit.Count, 1);
    return outcome.response;
  } catch (error) {
    // Ours to fix; the deployment must not go ahead on it.
    logger.error(
      'deploy gate failed unexpectedly; answering FAILED',
      error instanceof Error ? { error } : { error: String(error) },
    );
    metrics.addDimension('outcome', 'internal-error');
    metrics.addMetric('DeployGateVerdict', MetricUnit.Count, 1);
    return { hookStatus: 'FAILED' };
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
