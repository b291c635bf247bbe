/**
 * Writes each region's health entry in the edge's KeyValueStore: on every state change of the
 * region's Route 53 health-check alarm, and every minute from the alarms' current state (so a lost
 * event cannot leave a stale entry). See `write-health.ts` for the conditional write.
 */
import type { Context } from 'aws-lambda';

import { CloudWatchApi } from '../shared/cloudwatch-api';
import { jsonEnv, requireEnv } from '../shared/env';
import { logger } from '../shared/powertools';

import { EdgeHealthEventError, parseEdgeHealthEvent } from './events';
import { keyValueStoreHealth } from './health-store';
import { cloudWatchAlarmStates, reconcile, ReconcileResult } from './reconcile';
import { WriteResult, writeHealth } from './write-health';

export const KVS_ARN_ENV = 'KVS_ARN';
export const REGION_ALARMS_ENV = 'REGION_ALARMS';

/**
 * `REGION_ALARMS`: region -> the name of its health-check alarm (as the stack writes it: the names
 * are CloudFormation's), turned around into alarm name -> region.
 */
export function parseRegionAlarms(value: unknown): Record<string, string> {
  const entries: [string, unknown][] =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? Object.entries(value as Record<string, unknown>)
      : [];
  const alarms = new Set<unknown>(entries.map(([, alarm]) => alarm));
  if (
    entries.length === 0 ||
    entries.some(([, alarm]) => typeof alarm !== 'string' || alarm === '') ||
    alarms.size !== entries.length
  ) {
    throw new EdgeHealthEventError([
      `${REGION_ALARMS_ENV} must be a non-empty JSON object of region to a distinct alarm name, got ${JSON.stringify(value)}`,
    ]);
  }
  return Object.fromEntries(entries.map(([region, alarm]) => [alarm as string, region]));
}

let deps:
  | {
      readonly store: ReturnType<typeof keyValueStoreHealth>;
      readonly alarms: ReturnType<typeof cloudWatchAlarmStates>;
      readonly regionOfAlarm: Record<string, string>;
    }
  | undefined;

function load() {
  deps ??= {
    store: keyValueStoreHealth(requireEnv(KVS_ARN_ENV)),
    alarms: cloudWatchAlarmStates(new CloudWatchApi({ region: requireEnv('AWS_REGION') })),
    regionOfAlarm: jsonEnv(REGION_ALARMS_ENV, parseRegionAlarms),
  };
  return deps;
}

export async function handler(
  event: unknown,
  context: Context,
): Promise<WriteResult | ReconcileResult | { readonly ignored: string }> {
  logger.addContext(context);
  try {
    const { store, alarms, regionOfAlarm } = load();
    const parsed = parseEdgeHealthEvent(event, regionOfAlarm);
    if (parsed.kind === 'reconcile') {
      const result = await reconcile(alarms, store, regionOfAlarm);
      const written = result.results.filter((r) => r.outcome === 'written');
      if (written.length > 0 || result.missingAlarms.length > 0) {
        logger.warn('reconcile corrected the edge health', {
          written,
          missing: result.missingAlarms,
        });
      }
      return result;
    }
    if (parsed.observation === undefined) return { ignored: 'INSUFFICIENT_DATA keeps the entry' };
    const result = await writeHealth(store, parsed.observation);
    logger.info(`edge health ${result.region} ${result.outcome}`, { result });
    return result;
  } catch (error) {
    if (
      error instanceof EdgeHealthEventError ||
      (error instanceof Error && error.name === 'EnvironmentError')
    ) {
      // The caller's mistake (or the deployment's): a plain message, no stack, no retry will help.
      throw Object.assign(new Error(`${error.name}: ${error.message}`), { stack: '' });
    }
    logger.error(
      'edge health write failed',
      error instanceof Error ? { error } : { error: String(error) },
    );
    throw Object.assign(
      new Error(`the edge health write failed; see the logs of request ${context.awsRequestId}`),
      { stack: '' },
    );
  }
}
