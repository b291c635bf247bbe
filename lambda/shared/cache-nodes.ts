/** The two ElastiCache calls cache-outage makes; only its bundle carries the ElastiCache client. */
import {
  DescribeCacheClustersCommand,
  ElastiCacheClient,
  RebootCacheClusterCommand,
} from '@aws-sdk/client-elasticache';

import { type AwsClientOptions, addOutcomeClassifier, clientConfig } from './aws-client-config';
import type { WriteOutcome } from './ecs';
import { OutcomeUnknownError } from './errors';

/** ElastiCache calls that change state. A timeout on one of them is never retried blindly. */
export const MUTATING_ELASTICACHE_COMMANDS: ReadonlySet<string> = new Set([
  'RebootCacheClusterCommand',
]);

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

/** An ElastiCache client whose failures are classified for chaos work (`aws-client-config.ts`). */
export function createElastiCacheClient(options: AwsClientOptions = {}): ElastiCacheClient {
  const client = new ElastiCacheClient(clientConfig(options));
  addOutcomeClassifier(client, MUTATING_ELASTICACHE_COMMANDS);
  return client;
}

export function elastiCacheNodes(client: ElastiCacheClient): CacheNodes {
  const statuses = async (clusterId: string) => {
    const out = await client.send(
      new DescribeCacheClustersCommand({ CacheClusterId: clusterId, ShowCacheNodeInfo: true }),
    );
    return out.CacheClusters?.[0]?.CacheNodes ?? [];
  };
  return {
    async available(clusterId) {
      return (await statuses(clusterId))
        .filter((n) => n.CacheNodeStatus === 'available' && n.CacheNodeId)
        .map((n) => n.CacheNodeId as string)
        .sort();
    },
    async reboot(clusterId, nodeIds) {
      try {
        await client.send(
          new RebootCacheClusterCommand({
            CacheClusterId: clusterId,
            CacheNodeIdsToReboot: [...nodeIds],
          }),
        );
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
