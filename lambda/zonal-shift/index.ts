import type { Context } from 'aws-lambda';

import { httpGet, readItems } from '../gameday-observe/client-reads';
import { rethrowForStateMachine } from '../gameday-shared/errors';
import { AvailabilityZones } from '../shared/availability-zones';
import { DynamoDbApi } from '../shared/dynamodb-api';
import { numberEnv, requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import { readStateWith } from '../shared/state-items';
import { ZonalShiftClient } from '../shared/zonal-shift-client';

import type { ShiftObservation } from './mitigation';
import { ZonalShiftDeps, parseZonalShiftEvent, zonalShiftFunction } from './zonal-shift-function';

let deps: ZonalShiftDeps | undefined;

/** The deployed dependencies, built on first use and kept. */
function productionDeps(): ZonalShiftDeps {
  if (deps) return deps;
  const region = requireEnv('AWS_REGION');
  // The state table is only read here: one signed GetItem, not the SDK's DynamoDB client.
  const stateReads = new DynamoDbApi({ region }).reads(requireEnv('STATE_TABLE'));
  const service = requireEnv('SERVICE_ARN');
  const endpoint = requireEnv('REGION_ENDPOINT');
  const requestsPerPoll = numberEnv('REQUESTS_PER_POLL', {
    defaultValue: 15,
    min: 1,
    max: 100,
    integer: true,
  });
  // EC2's query API directly: its SDK client would be most of this function's cold start.
  const zones = new AvailabilityZones({ region });
  deps = {
    api: new ZonalShiftClient({ region }),
    resourceIdentifier: requireEnv('ZONAL_SHIFT_RESOURCE'),
    azIdOf: (name) => zones.zoneIdOf(name),
    state: () => readStateWith(stateReads, service),
    reads: () =>
      readItems(endpoint, requestsPerPoll, {
        get: httpGet,
        timeoutMs: 2_000,
        concurrency: 5,
        clock: () => performance.now(),
      }),
    limits: {
      holdPolls: numberEnv('HOLD_POLLS', { defaultValue: 3, min: 0, max: 100, integer: true }),
      timeoutSeconds: numberEnv('SHIFT_TIMEOUT_SECONDS', {
        defaultValue: 600,
        min: 30,
        max: 3600,
        integer: true,
      }),
    },
    maxFaultDurationMinutes: numberEnv('MAX_FAULT_DURATION_MINUTES', {
      defaultValue: 30,
      min: 1,
      max: 720,
      integer: true,
    }),
    now: () => Date.now(),
  };
  return deps;
}

/** Starts the az-outage mitigation, or observes one poll of it; see zonal-shift-function.ts. */
export async function handler(event: unknown, context: Context): Promise<ShiftObservation> {
  logger.resetKeys();
  logger.addContext(context);
  try {
    const parsed = parseZonalShiftEvent(event);
    logger.appendKeys({ action: parsed.action });
    const result = await zonalShiftFunction(parsed, productionDeps());
    logger.info(`zonal shift ${parsed.action}`, { result });
    return result;
  } catch (error) {
    return rethrowForStateMachine(error);
  }
}
