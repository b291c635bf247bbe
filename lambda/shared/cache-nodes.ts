/** The two ElastiCache calls cache-outage makes; only its bundle carries the ElastiCache client. */
import {
  DescribeCacheClustersCommand,
  ElastiCacheClient,
  RebootCacheClusterCommand,
} from '@aws-sdk/client-elasticache';

export interface CacheNodes {
  /** Ids of the cluster's nodes that are `available` (not already rebooting), sorted. */
  available(clusterId: string): Promise<string[]>;
  reboot(clusterId: string, nodeIds: readonly string[]): Promise<void>;
}

export function elastiCacheNodes(client: ElastiCacheClient): CacheNodes {
  return {
    async available(clusterId) {
      const out = await client.send(
        new DescribeCacheClustersCommand({ CacheClusterId: clusterId, ShowCacheNodeInfo: true }),
      );
      return (out.CacheClusters?.[0]?.CacheNodes ?? [])
        .filter((n) => n.CacheNodeStatus === 'available' && n.CacheNodeId)
        .map((n) => n.CacheNodeId as string)
        .sort();
    },
    async reboot(clusterId, nodeIds) {
      await client.send(
        new RebootCacheClusterCommand({
          CacheClusterId: clusterId,
          CacheNodeIdsToReboot: [...nodeIds],
        }),
      );
    },
  };
}
