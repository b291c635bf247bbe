import { App, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancedFargateService } from 'aws-cdk-lib/aws-ecs-patterns';
import { ApplicationProtocol } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import {
  ARecord,
  HealthCheck,
  HealthCheckType,
  HostedZone,
  RecordTarget,
} from 'aws-cdk-lib/aws-route53';
import { LoadBalancerTarget } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';

import { DEFAULT_CONFIG } from '../../lib/config';

/**
 * The alternative the blueprint is measured against: what a team gets from the stock CDK pieces,
 * each left at its defaults. Per region, one stack with
 *   - `ApplicationLoadBalancedFargateService` from aws-cdk-lib/aws-ecs-patterns (its own VPC,
 *     cluster, ALB and target group; HTTPS only because a Route 53 HTTPS check needs a port 443
 *     listener, every other prop at its default);
 *   - a Route 53 `HTTPS` health check on that region's name, at Route 53's defaults;
 *   - a latency-routed alias record for `api.<zone>` that the health check guards.
 * The regions and AZs are the blueprint's defaults, written out so synth never looks anything up.
 */

/** An existing hosted zone, imported by attributes (no lookup). */
export const BASELINE_ZONE = {
  hostedZoneId: 'Z0BASELINE00000000000',
  zoneName: 'baseline.example.com',
};

/** The image the stock service runs; any image that answers HTTP would do. */
const IMAGE = 'public.ecr.aws/nginx/nginx:stable';

export interface BaselineRegionStackProps extends StackProps {
  /** The AZ names the VPC spreads over, so that synth never asks AWS for them. */
  readonly availabilityZones: readonly string[];
}

/** One region of the baseline: stock pattern, stock health check, latency record. */
export class BaselineRegionStack extends Stack {
  public readonly service: ApplicationLoadBalancedFargateService;
  private readonly zones: readonly string[];

  constructor(scope: Construct, id: string, props: BaselineRegionStackProps) {
    super(scope, id, props);
    this.zones = props.availabilityZones;
    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W3010',
      reason: 'AZ names are written out on purpose, so that synth never looks them up.',
    });
    const zone = HostedZone.fromHostedZoneAttributes(this, 'Zone', BASELINE_ZONE);
    const regionName = `${this.region}.api.${BASELINE_ZONE.zoneName}`;

    this.service = new ApplicationLoadBalancedFargateService(this, 'Service', {
      taskImageOptions: { image: ContainerImage.fromRegistry(IMAGE) },
      protocol: ApplicationProtocol.HTTPS,
      domainName: regionName,
      domainZone: zone,
    });

    const healthCheck = new HealthCheck(this, 'HealthCheck', {
      type: HealthCheckType.HTTPS,
      fqdn: regionName,
    });
    new ARecord(this, 'ApiRecord', {
      zone,
      recordName: `api.${BASELINE_ZONE.zoneName}`,
      target: RecordTarget.fromAlias(new LoadBalancerTarget(this.service.loadBalancer)),
      region: this.region,
      setIdentifier: this.region,
      healthCheck,
    });
  }

  /** The configured AZs instead of CDK's placeholders for an environment-agnostic account. */
  public override get availabilityZones(): string[] {
    return [...this.zones];
  }
}

/** Adds one baseline stack per default region to `app`. */
export function createBaseline(app: App): BaselineRegionStack[] {
  return DEFAULT_CONFIG.regions.map(
    (regionConfig) =>
      new BaselineRegionStack(app, `Baseline-${regionConfig.region}`, {
        env: { region: regionConfig.region },
        description: `Stock ApplicationLoadBalancedFargateService and Route 53 defaults in ${regionConfig.region} (benchmark baseline)`,
        availabilityZones: regionConfig.availabilityZones,
      }),
  );
}
