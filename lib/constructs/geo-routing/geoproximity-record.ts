import { Token } from 'aws-cdk-lib';
import { CfnRecordSet, IHealthCheck, IHostedZone } from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';

/** Where an alias record points: an ALB, a CloudFront distribution, ... */
export interface AliasTarget {
  /** The target's DNS name, e.g. `dualstack.my-alb-123.eu-west-1.elb.amazonaws.com`. */
  readonly dnsName: string;
  /** The hosted zone id AWS publishes the target's name in (an ALB's canonical hosted zone id). */
  readonly hostedZoneId: string;
}

export interface GeoproximityAliasRecordProps {
  /** The zone the record lives in. */
  readonly zone: IHostedZone;
  /** The full record name, e.g. `api.example.com`. */
  readonly recordName: string;
  /** The AWS region whose location anchors this record's catchment, e.g. `eu-west-1`. */
  readonly region: string;
  /**
   * Grows (positive) or shrinks (negative) the region's catchment, -99..99.
   * @default 0 - the catchment follows geography alone
   */
  readonly bias?: number;
  /** What the record answers with. */
  readonly target: AliasTarget;
  /**
   * The health check that takes this record out of answers when it fails.
   * @default - no health check: the record is answered even when its region is down
   */
  readonly healthCheck?: IHealthCheck;
  /**
   * Let Route 53 also weigh the alias target's own health (an ALB with no healthy targets).
   * @default true
   */
  readonly evaluateTargetHealth?: boolean;
  /**
   * Tells this record apart from the other geoproximity records of the same name.
   * @default - the region
   */
  readonly setIdentifier?: string;
}

/**
 * One geoproximity alias record (type A). aws-cdk-lib has no geoproximity option on its record
 * constructs, and its `CfnRecordSet` lacks the `GeoProximityLocation` property that CloudFormation
 * accepts, so this construct writes it as a property override. Tests check the rendered template,
 * and synth validates it against CloudFormation's schema.
 */
export class GeoproximityAliasRecord extends Construct {
  public readonly recordSet: CfnRecordSet;

  constructor(scope: Construct, id: string, props: GeoproximityAliasRecordProps) {
    super(scope, id);
    const bias = props.bias ?? 0;
    if (!Token.isUnresolved(bias) && (!Number.isInteger(bias) || bias < -99 || bias > 99)) {
      throw new Error(`bias must be an integer from -99 to 99, got ${bias}`);
    }

    this.recordSet = new CfnRecordSet(this, 'Resource', {
      hostedZoneId: props.zone.hostedZoneId,
      name: props.recordName,
      type: 'A',
      setIdentifier: props.setIdentifier ?? props.region,
      healthCheckId: props.healthCheck?.healthCheckId,
      aliasTarget: {
        dnsName: props.target.dnsName,
        hostedZoneId: props.target.hostedZoneId,
        evaluateTargetHealth: props.evaluateTargetHealth ?? true,
      },
    });
    this.recordSet.addPropertyOverride('GeoProximityLocation', {
      AWSRegion: props.region,
      Bias: bias,
    });
  }
}
