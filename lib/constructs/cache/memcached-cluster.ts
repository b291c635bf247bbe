import { Fn, Token, Validations } from 'aws-cdk-lib';
import { IConnectable, IVpc, Port, SecurityGroup, SubnetType } from 'aws-cdk-lib/aws-ec2';
import { CfnCacheCluster, CfnSubnetGroup } from 'aws-cdk-lib/aws-elasticache';
import { Construct } from 'constructs';

export const MEMCACHED_PORT = 11211;

export interface MemcachedClusterProps {
  /** The VPC whose isolated subnets hold the nodes. */
  readonly vpc: IVpc;
  /** One node is placed in each of these AZs (at least 2). */
  readonly availabilityZones: readonly string[];
  /** The ElastiCache node type, e.g. `cache.t4g.micro`. */
  readonly nodeType: string;
  /**
   * The memcached engine version.
   * @default '1.6.22'
   */
  readonly engineVersion?: string;
  /**
   * Encrypt traffic between the tasks and the nodes with TLS (memcached 1.6.12 and later).
   * @default true
   */
  readonly transitEncryption?: boolean;
}

/**
 * A memcached cluster with one node per AZ in isolated subnets. Reachable only from what
 * `allowFrom` admits, on 11211. Clients find the nodes through `configurationEndpoint` with
 * ElastiCache Auto Discovery (`config get cluster`), as `MEMCACHED_CONFIG_ENDPOINT` wants.
 */
export class MemcachedCluster extends Construct {
  public readonly cluster: CfnCacheCluster;
  public readonly securityGroup: SecurityGroup;
  /**
   * `host:port` of the cluster's configuration endpoint. Node names are not derived from it: with
   * in-transit encryption they are `<node>.<cluster>.<hash>.<region>.cache.amazonaws.com`, and
   * nodes are replaced and added at run time, so clients ask the endpoint for the current list.
   */
  public readonly configurationEndpoint: string;
  /** Whether clients must speak TLS to the nodes. */
  public readonly transitEncryption: boolean;

  constructor(scope: Construct, id: string, props: MemcachedClusterProps) {
    super(scope, id);
    const azs = props.availabilityZones;
    if (azs.length < 2 && !azs.some((az) => Token.isUnresolved(az))) {
      throw new Error(
        `MemcachedCluster: availabilityZones must list at least 2 AZs for a cross-AZ cache, got ${JSON.stringify(azs)}`,
      );
    }

    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'memcached nodes: only the service tasks may connect',
      allowAllOutbound: false,
    });
    const subnetGroup = new CfnSubnetGroup(this, 'Subnets', {
      description: 'Isolated subnets of the memcached cluster',
      subnetIds: props.vpc.selectSubnets({ subnetType: SubnetType.PRIVATE_ISOLATED }).subnetIds,
    });

    this.transitEncryption = props.transitEncryption ?? true;
    this.cluster = new CfnCacheCluster(this, 'Cluster', {
      engine: 'memcached',
      engineVersion: props.engineVersion ?? '1.6.22',
      cacheNodeType: props.nodeType,
      numCacheNodes: azs.length,
      azMode: 'cross-az',
      preferredAvailabilityZones: [...azs],
      cacheSubnetGroupName: subnetGroup.ref,
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      port: MEMCACHED_PORT,
      transitEncryptionEnabled: this.transitEncryption,
    });
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-AEC5',
      reason:
        'The port is not the boundary: the security group admits only the service tasks, on 11211, which forks expect.',
    });

    this.configurationEndpoint = Fn.join(':', [
      this.cluster.attrConfigurationEndpointAddress,
      this.cluster.attrConfigurationEndpointPort,
    ]);
  }

  /** Admits `peer` (the service's tasks) to the nodes on 11211. */
  allowFrom(peer: IConnectable): void {
    this.securityGroup.connections.allowFrom(
      peer,
      Port.tcp(MEMCACHED_PORT),
      'memcached from service tasks',
    );
  }
}
