import { RemovalPolicy, Token } from 'aws-cdk-lib';
import {
  CfnEIP,
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** How many NAT gateways a region runs. */
export enum NatGatewayLayout {
  /** One per AZ: losing an AZ never cuts the others off from the internet. */
  ONE_PER_AZ = 'one-per-az',
  /** One for the region: cheaper, but its AZ's loss cuts every private subnet off. */
  SINGLE = 'single',
}

export interface NetworkProps {
  /** AZ names to span, written out so that synth never asks AWS (at least 2). */
  readonly availabilityZones: readonly string[];
  /**
   * NAT gateway layout.
   * @default NatGatewayLayout.ONE_PER_AZ
   */
  readonly natGateways?: NatGatewayLayout;
  /**
   * The VPC's IPv4 range.
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;
  /**
   * How long flow logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly flowLogRetention?: RetentionDays;
}

/**
 * A VPC across the given AZs: public subnets for the load balancer, private subnets with NAT
 * egress for tasks, isolated subnets for the cache; endpoints so that AWS API traffic stays off the
 * NAT; flow logs of every connection.
 */
export class Network extends Construct {
  public readonly vpc: Vpc;
  /**
   * The public IPv4 address of each NAT gateway: the source address the internet, and this
   * region's own internet-facing load balancer, see for anything the private subnets send out.
   */
  public readonly natGatewayPublicIps: readonly string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azs = props.availabilityZones;
    if (azs.length < 2 && !azs.some((az) => Token.isUnresolved(az))) {
      throw new Error(`availabilityZones must list at least 2 AZs, got ${JSON.stringify(azs)}`);
    }
    const layout = props.natGateways ?? NatGatewayLayout.ONE_PER_AZ;
    const cidr = props.cidr ?? '10.0.0.0/16';

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(cidr),
      availabilityZones: [...azs],
      natGateways: layout === NatGatewayLayout.ONE_PER_AZ ? azs.length : 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 22 },
        { name: 'Private', subnetType: SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'Isolated', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
    });

    // The Vpc construct allocates one Elastic IP per NAT gateway ('EIP' in its public subnet) and
    // does not expose it.
    this.natGatewayPublicIps = this.vpc.publicSubnets.flatMap((subnet) => {
      const eip = subnet.node.tryFindChild('EIP');
      return eip instanceof CfnEIP ? [eip.attrPublicIp] : [];
    });
    const expectedNatGateways = layout === NatGatewayLayout.ONE_PER_AZ ? azs.length : 1;
    if (this.natGatewayPublicIps.length !== expectedNatGateways) {
      throw new Error(
        `Network: expected ${expectedNatGateways} NAT gateway Elastic IPs, found ${this.natGatewayPublicIps.length}`,
      );
    }

    const flowLogs = new LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: FlowLogTrafficType.ALL,
    });

    this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
    this.vpc.addGatewayEndpoint('DynamoDb', { service: GatewayVpcEndpointAwsService.DYNAMODB });
    // One group for every interface endpoint, open on 443 to the VPC's own range only. The range is
    // written as a literal so that cdk-nag can check the rule.
    const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'HTTPS from inside the VPC to AWS API endpoints',
      allowAllOutbound: false,
    });
    endpointSecurityGroup.addIngressRule(Peer.ipv4(cidr), Port.tcp(443), 'HTTPS from the VPC');
    const interfaceEndpoints = {
      EcrApi: InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      Ssm: InterfaceVpcEndpointAwsService.SSM,
    };
    for (const [endpointId, service] of Object.entries(interfaceEndpoints)) {
      this.vpc.addInterfaceEndpoint(endpointId, {
        service,
        subnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        privateDnsEnabled: true,
        securityGroups: [endpointSecurityGroup],
        open: false,
      });
    }
  }
}
