import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { RegionConfig, ResolvedConfig } from '../config';
import { NatGatewayLayout, Network } from '../constructs/network/network';

export interface RegionalStackProps extends StackProps {
  /** The whole blueprint config (sizing, health checks, chaos guardrails). */
  readonly config: ResolvedConfig;
  /** This stack's region and its AZs. */
  readonly regionConfig: Required<RegionConfig>;
  /** Name of the global table; this region's service uses its local replica. */
  readonly tableName: string;
}

/** Everything one region runs: network, service, cache, alarms, chaos functions. */
export class RegionalStack extends Stack {
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    this.network = new Network(this, 'Network', {
      availabilityZones: props.regionConfig.availabilityZones,
      natGateways:
        props.config.network.natGateways === 'single'
          ? NatGatewayLayout.SINGLE
          : NatGatewayLayout.ONE_PER_AZ,
    });
  }
}
