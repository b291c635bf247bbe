import { RemovalPolicy, Token } from 'aws-cdk-lib';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';

export interface GlobalTableProps {
  /** Physical table name; every region's service finds its local replica by this name. */
  readonly tableName: string;
  /**
   * Regions that get a replica, besides the stack's own region (which holds the first copy).
   * @default - no replicas: a single-region table
   */
  readonly replicaRegions?: readonly string[];
  /**
   * Refuse deletion of the table (and of every replica) until this is switched off.
   * @default true - a `cdk destroy` never deletes customer data by accident
   */
  readonly deletionProtection?: boolean;
}

/**
 * The catalog's DynamoDB global table: on-demand, point-in-time recovery, one replica per region.
 * Items live under `pk`; records with an `expiresAt` epoch-seconds attribute (idempotency keys,
 * chaos leases) expire by themselves.
 */
export class GlobalTable extends Construct {
  public readonly table: TableV2;
  public readonly tableName: string;

  constructor(scope: Construct, id: string, props: GlobalTableProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.tableName) && !/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(
        `tableName must be 3-255 letters, digits, '_', '-' or '.', got ${JSON.stringify(props.tableName)}`,
      );
    }
    const deletionProtection = props.deletionProtection ?? true;
    this.tableName = props.tableName;
    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      deletionProtection,
      removalPolicy: deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      replicas: (props.replicaRegions ?? []).map((region) => ({ region })),
    });
  }
}
