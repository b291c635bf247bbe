import type { Context } from 'aws-lambda';

import { loadObserveEnv } from '../gameday-shared/env';
import { rethrowForStateMachine } from '../gameday-shared/errors';
import type { Observation, PreflightResult } from '../gameday-shared/run';
import { CloudWatchApi } from '../shared/cloudwatch-api';
import { DynamoDbApi } from '../shared/dynamodb-api';
import { requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import { readLeaseWith } from '../shared/state-items';

import { httpGet } from './client-reads';
import {
  ObserveDeps,
  describeAlarmStates,
  observeFunction,
  parseObserveEvent,
} from './observe-function';

let deps: ObserveDeps | undefined;

/** The deployed dependencies, built on first use and kept. */
function productionDeps(): ObserveDeps {
  if (deps) return deps;
  const env = loadObserveEnv();
  // The state table is only read here: one signed GetItem, not the SDK's DynamoDB client.
  const leaseReads = new DynamoDbApi({ region: requireEnv('AWS_REGION') }).reads(env.stateTable);
  const cloudWatch = new CloudWatchApi({ region: requireEnv('AWS_REGION') });
  deps = {
    env,
    alarmStates: (names) => describeAlarmStates(cloudWatch, names),
    lease: () => readLeaseWith(leaseReads, env.service),
    now: () => Date.now(),
    get: httpGet,
    clock: () => performance.now(),
  };
  return deps;
}

/** Preflight, one poll of the fault, or one poll of the recovery; see observe-function.ts. */
export async function handler(
  event: unknown,
  context: Context,
): Promise<PreflightResult | Observation> {
  logger.resetKeys();
  logger.addContext(context);
  try {
    const parsed = parseObserveEvent(event);
    logger.appendKeys({ action: parsed.action });
    const result = await observeFunction(parsed, productionDeps());
    logger.info(`gameday ${parsed.action}`, {
      result: 'ok' in result ? { ok: result.ok, problems: result.problems } : summary(result),
    });
    return result;
  } catch (error) {
    return rethrowForStateMachine(error);
  }
}

const summary = (o: Observation) => ({
  phase: o.phase,
  polls: o.polls,
  done: o.done,
  reason: o.reason,
  timeline: o.timeline,
  requests: o.requests,
});
