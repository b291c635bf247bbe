import * as path from 'node:path';

import { Duration, Stack, Token } from 'aws-cdk-lib';
import { ImportSource, KeyValueStore } from 'aws-cdk-lib/aws-cloudfront';
import { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { LAMBDA_ROOT } from '../lambda/bundle';
import { ProjectFunction } from '../lambda/project-function';

/** A region and the alarm that says whether Route 53 finds it healthy. */
export interface EdgeHealthRegion {
  /** e.g. `eu-west-1`: the key of the region's entry. */
  readonly region: string;
  /** In ALARM while the region's Route 53 health check fails (see `RegionHealthAlarms`). */
  readonly alarm: IAlarm;
}

export interface EdgeHealthProps {
  /** Every region the edge routes to, with its health-check alarm. */
  readonly regions: readonly EdgeHealthRegion[];
  /**
   * How often the writer re-reads every alarm and corrects entries a lost event left stale.
   * @default Duration.minutes(1)
   */
  readonly reconcileInterval?: Duration;
  /**
   * How long the writer's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
}

/** The value the router treats as "route here"; anything starting with `unhealthy` is not. */
export const HEALTHY = 'healthy';

/**
 * Each region's health at the edge: a CloudFront KeyValueStore holding `<region>` = `healthy` |
 * `unhealthy` (seeded all healthy), and the function that writes it. The function runs on every
 * state change of a region's health-check alarm (an EventBridge rule on the alarms' `CloudWatch
 * Alarm State Change` events) and on a schedule that reconciles every entry with its alarm's
 * current state, so a lost event cannot leave a stale entry. It may only read the store and write
 * its keys, and describe these alarms.
 */
export class EdgeHealth extends Construct {
  public readonly keyValueStore: KeyValueStore;
  public readonly writer: ProjectFunction;
  /** Runs the writer on each alarm state change. */
  public readonly alarmStateRule: Rule;
  /** Runs the writer every `reconcileInterval`. */
  public readonly reconcileRule: Rule;

  constructor(scope: Construct, id: string, props: EdgeHealthProps) {
    super(scope, id);
    const reconcileInterval = props.reconcileInterval ?? Duration.minutes(1);
    validate(props, reconcileInterval);

    this.keyValueStore = new KeyValueStore(this, 'Store', {
      comment: 'Health of each region, read by the API router at the edge',
      source: ImportSource.fromInline(
        JSON.stringify({ data: props.regions.map((r) => ({ key: r.region, value: HEALTHY })) }),
      ),
    });

    const alarmArns = props.regions.map((r) => r.alarm.alarmArn);
    this.writer = this.writerFunction(
      [
        new PolicyStatement({
          actions: [
            'cloudfront-keyvaluestore:DescribeKeyValueStore',
            'cloudfront-keyvaluestore:GetKey',
            'cloudfront-keyvaluestore:UpdateKeys',
          ],
          resources: [this.keyValueStore.keyValueStoreArn],
        }),
        new PolicyStatement({ actions: ['cloudwatch:DescribeAlarms'], resources: alarmArns }),
      ],
      {
        KVS_ARN: this.keyValueStore.keyValueStoreArn,
        REGION_ALARMS: Stack.of(this).toJsonString(
          Object.fromEntries(props.regions.map((r) => [r.region, r.alarm.alarmName])),
        ),
      },
      props.logRetention ?? RetentionDays.ONE_MONTH,
    );

    // A failed invocation is retried by Lambda (twice, asynchronously); an event older than two
    // minutes is dropped, since the next reconcile writes the alarm's state by then anyway.
    const target = new LambdaFunction(this.writer, {
      retryAttempts: 2,
      maxEventAge: Duration.minutes(2),
    });
    this.alarmStateRule = new Rule(this, 'AlarmStateChange', {
      description: "Writes a region's edge health when its health-check alarm changes state",
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: alarmArns,
      },
      targets: [target],
    });
    this.reconcileRule = new Rule(this, 'Reconcile', {
      description: 'Corrects edge health entries from the alarms, should an event have been lost',
      schedule: Schedule.rate(reconcileInterval),
      targets: [target],
    });
  }

  /** The writer, created like the game-day functions (one place, to follow their bundling). */
  private writerFunction(
    statements: readonly PolicyStatement[],
    environment: Record<string, string>,
    retention: RetentionDays,
  ): ProjectFunction {
    return ProjectFunction.withOwnRole(this, 'Writer', {
      entry: path.join(LAMBDA_ROOT, 'edge-health', 'index.ts'),
      roleDescription: 'Writes each region health into the edge KeyValueStore',
      statements: [...statements],
      logRetention: retention,
      memorySize: 256,
      timeout: Duration.seconds(30),
      description: 'Writes region health into the edge KeyValueStore',
      environment: {
        POWERTOOLS_SERVICE_NAME: 'edge-health',
        POWERTOOLS_METRICS_NAMESPACE: 'MultiRegionBlueprint/EdgeHealth',
        ...environment,
      },
    });
  }
}

function validate(props: EdgeHealthProps, reconcileInterval: Duration): void {
  const problems: string[] = [];
  if (props.regions.length === 0) {
    problems.push('regions must list at least one region, got none');
  }
  const seen = new Set<string>();
  for (const { region } of props.regions) {
    if (Token.isUnresolved(region)) continue;
    if (!/^[a-z0-9-]+$/.test(region)) {
      problems.push(
        `region must be a region code such as "eu-west-1", got ${JSON.stringify(region)}`,
      );
    }
    if (seen.has(region)) problems.push(`regions must name each region once, got ${region} twice`);
    seen.add(region);
  }
  if (
    !reconcileInterval.isUnresolved() &&
    (reconcileInterval.toSeconds() < 60 || reconcileInterval.toSeconds() % 60 !== 0)
  ) {
    problems.push(
      `reconcileInterval must be whole minutes, at least 1 (EventBridge's finest schedule), got ${reconcileInterval.toSeconds()} s`,
    );
  }
  if (problems.length > 0) {
    throw new Error(
      `EdgeHealth has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}
