/**
 * The two events the edge-health writer takes, validated before anything is written:
 * - an alarm state change (EventBridge `CloudWatch Alarm State Change` from `aws.cloudwatch`) of one
 *   of the region alarms: write that region's entry;
 * - the schedule (`Scheduled Event` from `aws.events`): reconcile every region with its alarm.
 */
import type { EdgeHealth, HealthObservation } from './health-store';

export type EdgeHealthEvent =
  | { readonly kind: 'alarm-state'; readonly observation: HealthObservation | undefined }
  | { readonly kind: 'reconcile' };

/** The event is not one this function takes; nothing was written. */
export class EdgeHealthEventError extends Error {
  public override readonly name = 'EdgeHealthEventError';

  constructor(public readonly problems: readonly string[]) {
    super(`Invalid event: ${problems.join('; ')}`);
  }
}

/**
 * What an alarm state means at the edge. INSUFFICIENT_DATA (a new health check, or Route 53 not
 * publishing) says nothing about the region: the entry keeps its last known value.
 */
export function healthOfAlarmState(state: string): EdgeHealth | undefined {
  if (state === 'ALARM') return 'unhealthy';
  if (state === 'OK') return 'healthy';
  return undefined;
}

const STATES = ['OK', 'ALARM', 'INSUFFICIENT_DATA'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses an event; `regionOfAlarm` maps the region alarms' names to their regions. */
export function parseEdgeHealthEvent(
  raw: unknown,
  regionOfAlarm: Readonly<Record<string, string>>,
): EdgeHealthEvent {
  if (!isRecord(raw)) {
    throw new EdgeHealthEventError([`the event must be a JSON object, got ${JSON.stringify(raw)}`]);
  }
  const source = raw.source;
  const detailType = raw['detail-type'];
  if (source === 'aws.events' && detailType === 'Scheduled Event') return { kind: 'reconcile' };
  if (source !== 'aws.cloudwatch' || detailType !== 'CloudWatch Alarm State Change') {
    throw new EdgeHealthEventError([
      `source/detail-type must be aws.cloudwatch/"CloudWatch Alarm State Change" or aws.events/"Scheduled Event", got ${JSON.stringify(source)}/${JSON.stringify(detailType)}`,
    ]);
  }
  const problems: string[] = [];
  const detail = isRecord(raw.detail) ? raw.detail : undefined;
  if (detail === undefined) problems.push('detail must be an object');
  const alarmName = detail?.alarmName;
  const state = isRecord(detail?.state) ? detail.state : undefined;
  const known = Object.keys(regionOfAlarm);
  if (typeof alarmName !== 'string') {
    problems.push(`detail.alarmName must be a string, got ${JSON.stringify(alarmName)}`);
  } else if (regionOfAlarm[alarmName] === undefined) {
    problems.push(
      `detail.alarmName must be one of the region alarms (${known.join(', ')}), got ${JSON.stringify(alarmName)}`,
    );
  }
  const value = state?.value;
  if (typeof value !== 'string' || !STATES.includes(value)) {
    problems.push(
      `detail.state.value must be one of ${STATES.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  const timestamp = state?.timestamp;
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) {
    problems.push(
      `detail.state.timestamp must be an ISO-8601 time, got ${JSON.stringify(timestamp)}`,
    );
  }
  if (problems.length > 0) throw new EdgeHealthEventError(problems);
  const health = healthOfAlarmState(value as string);
  return {
    kind: 'alarm-state',
    observation:
      health === undefined
        ? undefined
        : {
            region: regionOfAlarm[alarmName as string],
            health,
            observedAt: new Date(Date.parse(timestamp as string)).toISOString(),
          },
  };
}
