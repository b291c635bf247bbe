import { GLOBAL_STACK_REGION, ResolvedConfig } from '../config';

/** What one region must have room for before the blueprint deploys there. */
export interface RegionNeeds {
  readonly region: string;
  /** The stack the blueprint deploys here whose resources already count (when it exists). */
  readonly serviceStackName?: string;
  /** Every stack that deploys here, e.g. `Shop-Data`, `Shop-eu-west-1`. */
  readonly stackNames: readonly string[];
  /** Runs the service (a VPC, NAT gateways, Fargate); false for us-east-1 when it holds only Global. */
  readonly runsService: boolean;
  readonly availabilityZones: readonly string[];
  /** NAT gateways, each with an Elastic IP. */
  readonly natGateways: number;
  /** The AZs that get a NAT gateway. */
  readonly natGatewayAzs: readonly string[];
  readonly vpcs: number;
  /** Fargate On-Demand vCPUs at full scale: maxTasks × taskCpu / 1024. */
  readonly fargateVcpus: number;
}

/**
 * What each region the stacks use needs: every configured region runs the service; us-east-1 also
 * holds the Global stack, so it must be bootstrapped even when it runs no service.
 */
export function regionNeeds(config: ResolvedConfig): RegionNeeds[] {
  const { projectName } = config;
  const service = config.regions.map((r): RegionNeeds => {
    const single = config.network.natGateways === 'single';
    const natGatewayAzs = single ? r.availabilityZones.slice(0, 1) : [...r.availabilityZones];
    const stackNames = [
      ...(r.region === config.homeRegion ? [`${projectName}-Data`] : []),
      `${projectName}-${r.region}`,
      ...(r.region === GLOBAL_STACK_REGION ? [`${projectName}-Global`] : []),
    ];
    return {
      region: r.region,
      serviceStackName: `${projectName}-${r.region}`,
      stackNames,
      runsService: true,
      availabilityZones: r.availabilityZones,
      natGateways: natGatewayAzs.length,
      natGatewayAzs,
      vpcs: 1,
      fargateVcpus: (config.sizing.maxTasks * config.sizing.taskCpu) / 1024,
    };
  });
  if (service.some((n) => n.region === GLOBAL_STACK_REGION)) return service;
  return [
    ...service,
    {
      region: GLOBAL_STACK_REGION,
      stackNames: [`${projectName}-Global`],
      runsService: false,
      availabilityZones: [],
      natGateways: 0,
      natGatewayAzs: [],
      vpcs: 0,
      fargateVcpus: 0,
    },
  ];
}
