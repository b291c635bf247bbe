/** The cache nodes cache-outage reboots, over its two ElastiCache calls (`elasticache-api.ts`). */
import type { WriteOutcome } from './ecs';
import type { ElastiCacheCalls } from './elasticache-api';
import { OutcomeUnknownError } from './errors';

/** The status ElastiCache gives a node from a reboot request until it is back. */
export const REBOOTING = 'rebooting cache cluster nodes';

export interface CacheNodes {
  /** Ids of the cluster's nodes that are `available` (not already rebooting), sorted. */
  available(clusterId: string): Promise<string[]>;
  /**
   * Reboots the nodes once. An UNKNOWN reply (timeout, reset, unreadable 2xx) is not repeated: a
   * DescribeCacheClusters learns whether the nodes are rebooting (`verified-done`) or not.
   */
  reboot(clusterId: string, nodeIds: readonly string[]): Promise<WriteOutcome>;
}

export function elastiCacheNodes(client: ElastiCacheCalls): CacheNodes {
  const statuses = (clusterId: string) => client.cacheNodes(clusterId);
  return {
    async available(clusterId) {
      return (await statuses(clusterId))
        .filter((n) => n.CacheNodeStatus === 'available' && n.CacheNodeId)
        .map((n) => n.CacheNodeId as string)
        .sort();
    },
    async reboot(clusterId, nodeIds) {
      try {
        await client.rebootCacheCluster(clusterId, nodeIds);
        return 'done';
      } catch (error) {
        if (!(error instanceof OutcomeUnknownError)) throw error;
      }
      try {
        const nodes = await statuses(clusterId);
        const rebooting = nodeIds.every(
          (id) => nodes.find((n) => n.CacheNodeId === id)?.CacheNodeStatus === REBOOTING,
        );
        return rebooting ? 'verified-done' : 'verified-not-done';
      } catch {
        return 'unknown'; // the operator must look before acting again
      }
    },
  };
}
