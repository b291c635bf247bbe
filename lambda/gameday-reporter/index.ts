import type { Context } from 'aws-lambda';

import { s3Objects } from '../gameday-shared/clients';
import { ReportEnv, loadReportEnv } from '../gameday-shared/env';
import { rethrowForStateMachine } from '../gameday-shared/errors';
import type { GameDayReport } from '../gameday-shared/report';
import { metrics } from '../shared/metrics';
import { logger } from '../shared/powertools';

import { buildReport, emitMetrics, parseReportEvent, storeReport } from './report';

let env: ReportEnv | undefined;

/** Builds, scores, stores and measures a run's report; returns it as the execution's output. */
export async function handler(event: unknown, context: Context): Promise<GameDayReport> {
  logger.resetKeys();
  logger.addContext(context);
  try {
    env ??= loadReportEnv();
    const report = buildReport(parseReportEvent(event), env, new Date());
    logger.appendKeys({ experimentId: report.experimentId, scenario: report.scenario });
    await storeReport(s3Objects(), report);
    emitMetrics(metrics, report);
    logger.info(`gameday report ${report.outcome}`, {
      summary: report.summary,
      location: report.location,
    });
    return report;
  } catch (error) {
    return rethrowForStateMachine(error);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
