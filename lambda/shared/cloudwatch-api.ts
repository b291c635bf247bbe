/**
 * CloudWatch's DescribeAlarms without `@aws-sdk/client-cloudwatch`: its JSON 1.0 protocol
 * (`GraniteServiceVersion20100801`, signing name `monitoring`) through `AwsJsonApi`, for the
 * functions whose only CloudWatch call is reading alarm states (gameday-observe, edge-health).
 */
import type {
  CompositeAlarm,
  DescribeAlarmsInput,
  DescribeAlarmsOutput,
  MetricAlarm,
} from '@aws-sdk/client-cloudwatch';

import { AwsJsonApi, type Wire } from './aws-json-api';
import type { SignedClientOptions } from './signed-http';

export interface CloudWatchOperations {
  DescribeAlarms: [DescribeAlarmsInput, DescribeAlarmsOutput];
}

/** Names per request: DescribeAlarms takes at most 100 names. */
const NAMES_PER_REQUEST = 100;
/** Pages per request of names before giving up: 100 names fit in one page of 100. */
const MAX_PAGES = 10;

/** The call the chaos functions' alarm check makes: what tests give in place of the signed client. */
export type CloudWatchCalls = Pick<AwsJsonApi<CloudWatchOperations>, 'call'>;

export interface Alarms {
  readonly metric: Wire<MetricAlarm>[];
  readonly composite: Wire<CompositeAlarm>[];
}

export class CloudWatchApi extends AwsJsonApi<CloudWatchOperations> {
  constructor(options: SignedClientOptions) {
    super(
      {
        signingName: 'monitoring',
        targetPrefix: 'GraniteServiceVersion20100801',
        version: '1.0',
        mutating: new Set(),
        throttling: new Set(['Throttling', 'ThrottlingException']),
      },
      options,
    );
  }

  /** The named alarms of the given types that exist, every page of every 100 names. */
  async alarms(
    names: readonly string[],
    types: readonly ('MetricAlarm' | 'CompositeAlarm')[],
  ): Promise<Alarms> {
    const found: { metric: Wire<MetricAlarm>[]; composite: Wire<CompositeAlarm>[] } = {
      metric: [],
      composite: [],
    };
    for (let i = 0; i < names.length; i += NAMES_PER_REQUEST) {
      let nextToken: string | undefined;
      for (let page = 0; ; page++) {
        if (page >= MAX_PAGES) {
          throw new Error(
            `DescribeAlarms answered more than ${MAX_PAGES} pages; refusing to go on`,
          );
        }
        const out = await this.call('DescribeAlarms', {
          AlarmNames: names.slice(i, i + NAMES_PER_REQUEST),
          AlarmTypes: [...types],
          MaxRecords: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        });
        found.metric.push(...(out.MetricAlarms ?? []));
        found.composite.push(...(out.CompositeAlarms ?? []));
        nextToken = out.NextToken;
        if (!nextToken) break;
      }
    }
    return found;
  }
}
