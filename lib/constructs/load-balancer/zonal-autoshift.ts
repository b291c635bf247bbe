import { Token } from 'aws-cdk-lib';
import { CfnZonalAutoshiftConfiguration } from 'aws-cdk-lib/aws-arczonalshift';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Construct } from 'constructs';

export interface ZonalAutoshiftProps {
  /** The load balancer AWS may shift away from an impaired AZ; it must have zonal shift enabled. */
  readonly loadBalancer: IApplicationLoadBalancer;
  /**
   * The alarm that ends a practice run early when it fires: what users of the region feel.
   */
  readonly outcomeAlarm: IAlarm;
  /**
   * An alarm that keeps a practice run from starting (and ends one) while it fires.
   * @default - no blocking alarm: practice runs start whatever the region's state
   */
  readonly blockingAlarm?: IAlarm;
  /**
   * Weekly windows (UTC) in which no practice run starts, as `Mon:09:00-Mon:17:00`.
   * @default - no blocked window
   */
  readonly blockedWindows?: readonly string[];
  /**
   * Dates (UTC) on which no practice run starts, as `2026-12-24`.
   * @default - no blocked date
   */
  readonly blockedDates?: readonly string[];
}

const DAY = '(Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const TIME = '([01]\\d|2[0-3]):[0-5]\\d';
const BLOCKED_WINDOW = new RegExp(`^${DAY}:${TIME}-${DAY}:${TIME}$`);
const BLOCKED_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

/**
 * Zonal autoshift on one load balancer: AWS shifts its traffic away from an AZ that AWS sees
 * impaired, and runs a weekly practice shift (about 30 minutes) that the outcome alarm ends early
 * and the blocking alarm keeps from starting. Practice runs are required with autoshift.
 */
export class ZonalAutoshift extends Construct {
  public readonly configuration: CfnZonalAutoshiftConfiguration;

  constructor(scope: Construct, id: string, props: ZonalAutoshiftProps) {
    super(scope, id);
    const problems: string[] = [];
    const known = (v: string) => !Token.isUnresolved(v);
    for (const w of props.blockedWindows ?? []) {
      if (known(w) && !BLOCKED_WINDOW.test(w)) {
        problems.push(
          `blockedWindows must hold UTC windows such as "Mon:09:00-Mon:17:00", got ${JSON.stringify(w)}`,
        );
      }
    }
    for (const d of props.blockedDates ?? []) {
      if (known(d) && !BLOCKED_DATE.test(d)) {
        problems.push(
          `blockedDates must hold dates such as "2026-12-24", got ${JSON.stringify(d)}`,
        );
      }
    }
    if (
      props.blockingAlarm !== undefined &&
      props.blockingAlarm.alarmArn === props.outcomeAlarm.alarmArn
    ) {
      problems.push('blockingAlarm must differ from outcomeAlarm, got the same alarm for both');
    }
    if (problems.length > 0) throw new Error(`ZonalAutoshift: ${problems.join('; ')}`);

    const alarm = (a: IAlarm): CfnZonalAutoshiftConfiguration.ControlConditionProperty => ({
      alarmIdentifier: a.alarmArn,
      type: 'CLOUDWATCH',
    });
    this.configuration = new CfnZonalAutoshiftConfiguration(this, 'Resource', {
      resourceIdentifier: props.loadBalancer.loadBalancerArn,
      zonalAutoshiftStatus: 'ENABLED',
      practiceRunConfiguration: {
        outcomeAlarms: [alarm(props.outcomeAlarm)],
        ...(props.blockingAlarm ? { blockingAlarms: [alarm(props.blockingAlarm)] } : {}),
        ...(props.blockedWindows?.length ? { blockedWindows: [...props.blockedWindows] } : {}),
        ...(props.blockedDates?.length ? { blockedDates: [...props.blockedDates] } : {}),
      },
    });
    // The attribute must be on before ARC accepts the resource.
    this.configuration.node.addDependency(props.loadBalancer);
  }
}
