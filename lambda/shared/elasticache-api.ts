/**
 * The two ElastiCache calls cache-outage makes, without `@aws-sdk/client-elasticache` and the SDK's
 * XML parser: the query protocol through `AwsQueryApi`. RebootCacheCluster is a write: a lost
 * answer is an OutcomeUnknownError, never sent again (`cache-nodes.ts` reads the nodes instead).
 */
import { AwsQueryApi } from './aws-query-api';
import type { SignedClientOptions } from './signed-http';
import { sectionsOf, textOf } from './xml-text';

/** One node of DescribeCacheClusters, as far as cache-outage needs it. */
export interface CacheNodeStatus {
  readonly CacheNodeId?: string;
  readonly CacheNodeStatus?: string;
}

/** The calls cache-outage makes: what tests give in place of the signed client. */
export interface ElastiCacheCalls {
  /** The nodes of the cluster (DescribeCacheClusters with ShowCacheNodeInfo). */
  cacheNodes(clusterId: string): Promise<CacheNodeStatus[]>;
  rebootCacheCluster(clusterId: string, nodeIds: readonly string[]): Promise<void>;
}

export class ElastiCacheApi implements ElastiCacheCalls {
  private readonly api: AwsQueryApi;

  constructor(options: SignedClientOptions) {
    this.api = new AwsQueryApi(
      {
        signingName: 'elasticache',
        version: '2015-02-02',
        mutating: new Set(['RebootCacheCluster']),
        throttling: new Set(['Throttling', 'ThrottlingException']),
      },
      options,
    );
  }

  cacheNodes(clusterId: string): Promise<CacheNodeStatus[]> {
    return this.api.call(
      'DescribeCacheClusters',
      { CacheClusterId: clusterId, ShowCacheNodeInfo: 'true' },
      parseCacheNodes,
    );
  }

  async rebootCacheCluster(clusterId: string, nodeIds: readonly string[]): Promise<void> {
    await this.api.call(
      'RebootCacheCluster',
      {
        CacheClusterId: clusterId,
        // ElastiCache's query serialization names each member of this list `CacheNodeId`.
        ...Object.fromEntries(
          nodeIds.map((id, i) => [`CacheNodeIdsToReboot.CacheNodeId.${i + 1}`, id]),
        ),
      },
      () => true,
    );
  }
}

/** The `<CacheNode>`s of the first cluster of the answer; an empty list when it has none. */
export function parseCacheNodes(xml: string): CacheNodeStatus[] {
  const cluster = sectionsOf(xml, 'CacheCluster')[0] ?? '';
  return sectionsOf(cluster, 'CacheNode').map((node) => ({
    CacheNodeId: textOf(node, 'CacheNodeId'),
    CacheNodeStatus: textOf(node, 'CacheNodeStatus'),
  }));
}
