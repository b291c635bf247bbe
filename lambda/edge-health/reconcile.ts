/**
 * The backstop for a lost or failed event: read every region alarm's current state and apply it
 * like an event (a state already in the store is left alone, so a quiet minute writes nothing).
 */
import type { CloudWatchApi } from '../shared/cloudwatch-api';

import { healthOfAlarmState } from './events';
import type { HealthObservation, HealthStore } from './health-store';
import { WriteOptions, WriteResult, writeHealth } from './write-health';

/** An alarm's state as DescribeAlarms reports it. */
export interface AlarmState {
  readonly alarmName: string;
  readonly stateValue: string;
  readonly stateUpdatedAt: Date;
}

/** Reads the current state of the named alarms. */
export type AlarmStates = (alarmNames: readonly string[]) => Promise<AlarmState[]>;

export function cloudWatchAlarmStates(cloudWatch: CloudWatchApi): AlarmStates {
  return async (alarmNames) => {
    const { metric } = await cloudWatch.alarms(alarmNames, ['MetricAlarm']);
    return metric.flatMap((a) =>
      a.AlarmName && a.StateValue && a.StateUpdatedTimestamp !== undefined
        ? [
            {
              alarmName: a.AlarmName,
              stateValue: a.StateValue,
              // The JSON protocol sends seconds since the epoch.
              stateUpdatedAt: new Date(a.StateUpdatedTimestamp * 1000),
            },
          ]
        : [],
    );
  };
}

export interface ReconcileResult {
  readonly results: readonly WriteResult[];
  /** Regions whose alarm said INSUFFICIENT_DATA: left as they were. */
  readonly unknown: readonly string[];
  /** Alarms DescribeAlarms did not return (deleted or renamed outside the stack). */
  readonly missingAlarms: readonly string[];
}

export async function reconcile(
  alarmStates: AlarmStates,
  store: HealthStore,
  regionOfAlarm: Readonly<Record<string, string>>,
  options: WriteOptions = {},
): Promise<ReconcileResult> {
  const names = Object.keys(regionOfAlarm);
  const states = await alarmStates(names);
  const results: WriteResult[] = [];
  const unknown: string[] = [];
  // One region after another: they share the store's ETag, so parallel writes would only race.
  for (const state of states) {
    const region = regionOfAlarm[state.alarmName];
    if (region === undefined) continue;
    const health = healthOfAlarmState(state.stateValue);
    if (health === undefined) {
      unknown.push(region);
      continue;
    }
    const observation: HealthObservation = {
      region,
      health,
      observedAt: state.stateUpdatedAt.toISOString(),
    };
    results.push(await writeHealth(store, observation, options));
  }
  const seen = new Set(states.map((s) => s.alarmName));
  return { results, unknown, missingAlarms: names.filter((n) => !seen.has(n)) };
}
