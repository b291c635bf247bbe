import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { GlobalTable } from '../constructs/data/global-table';

export interface DataStackProps extends StackProps {
  /** Physical name of the global table. */
  readonly tableName: string;
  /** Regions that get a replica besides this stack's own. */
  readonly replicaRegions: readonly string[];
  /**
   * Refuse deletion of the table.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The global table, in the home region. It deploys before the regional stacks, because each
 * region's service reads its local replica from its first health check on.
 */
export class DataStack extends Stack {
  public readonly table: GlobalTable;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.table = new GlobalTable(this, 'Catalog', {
      tableName: props.tableName,
      replicaRegions: props.replicaRegions,
      deletionProtection: props.deletionProtection,
    });
  }
}
