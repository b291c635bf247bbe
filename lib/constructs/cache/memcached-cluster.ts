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
 * `allowFrom` admits, on 11211. `endpoints` lists every node, as `MEMCACHED_ENDPOINTS` wants.
 */
export class MemcachedCluster extends Construct {
  public readonly cluster: CfnCacheCluster;
  public readonly securityGroup: SecurityGroup;
  /** Comma-separated `host:port` of every node, in node order. */
  public readonly endpoints: string;
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

    // CloudFormation returns only the configuration endpoint, <id>.<hash>.cfg.<region>...; node n
    // answers at the same name with "cfg" replaced by its zero-padded number (0001, 0002, ...).
    const [prefix, suffix] = [0, 1].map((i) =>
      Fn.select(i, Fn.split('.cfg.', this.cluster.attrConfigurationEndpointAddress)),
    );
    this.endpoints = Fn.join(
      ',',
      azs.map((_az, i) =>
        Fn.join('', [prefix, `.${String(i + 1).padStart(4, '0')}.`, suffix, `:${MEMCACHED_PORT}`]),
      ),
    );
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
