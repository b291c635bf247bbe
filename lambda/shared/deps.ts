/** The real dependencies of a deployed guarded function, built on first use and kept. */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

import { powertoolsAudit } from './audit';
import type { CacheNodes } from './cache-nodes';
import { cloudWatchClient, documentClient, dynamoDbClient, ecsClient, ssmClient } from './clients';
import { loadCanaryEnv, loadChaosEnv } from './env';
import type { ChaosDeps } from './experiment';
import type { HandlerDeps } from './handler';
import { logger, metrics } from './powertools';
import { isRegionTarget, probe } from './probe';

let deps: HandlerDeps | undefined;

/** For the functions that never reboot cache nodes: keeps the ElastiCache client out of them. */
const noCacheNodes = (): never => {
  throw new Error('this function does not call ElastiCache');
};

/**
 * The deployed dependencies. Only cache-outage passes `cacheNodes`, so that only its bundle
 * carries the ElastiCache client. Throws EnvironmentError while an environment variable is missing.
 */
export function productionDeps(
  options: { readonly cacheNodes?: () => CacheNodes } = {},
): HandlerDeps {
  if (deps) return deps;
  const env = loadChaosEnv();
  const chaos: ChaosDeps = {
    env,
    ecs: ecsClient(),
    ssm: ssmClient(),
    cloudWatch: cloudWatchClient(),
    table: { ddb: documentClient(), tableName: env.stateTable },
    cacheNodes: options.cacheNodes ?? noCacheNodes,
    probeOtherRegions: async () => {
      const canary = loadCanaryEnv();
      const others = canary.targets.filter((t) => isRegionTarget(t.name) && t.name !== env.region);
      return Promise.all(
        others.map((t) => probe(t, { token: canary.healthToken, timeoutMs: canary.timeoutMs })),
      );
    },
    audit: powertoolsAudit(logger, metrics),
    now: () => new Date(),
    random: Math.random,
  };
  deps = {
    chaos,
    persistence: new DynamoDBPersistenceLayer({
      tableName: env.stateTable,
      keyAttr: 'pk',
      expiryAttr: 'expiresAt',
      awsSdkV3Client: dynamoDbClient(),
    }),
    logger,
    metrics,
  };
  return deps;
}
