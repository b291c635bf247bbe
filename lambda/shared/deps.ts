/** The real dependencies of a deployed guarded function, built on first use and kept. */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';

import { powertoolsAudit } from './audit';
import {
  cloudWatchClient,
  documentClient,
  dynamoDbClient,
  ecsClient,
  elastiCacheClient,
  ssmClient,
} from './clients';
import { loadCanaryEnv, loadChaosEnv } from './env';
import type { ChaosDeps } from './experiment';
import type { HandlerDeps } from './handler';
import { logger, metrics } from './powertools';
import { isRegionTarget, probe } from './probe';

let deps: HandlerDeps | undefined;

/** Throws EnvironmentError (and builds nothing) while an environment variable is missing. */
export function productionDeps(): HandlerDeps {
  if (deps) return deps;
  const env = loadChaosEnv();
  const chaos: ChaosDeps = {
    env,
    ecs: ecsClient(),
    ssm: ssmClient(),
    cloudWatch: cloudWatchClient(),
    table: { ddb: documentClient(), tableName: env.stateTable },
    elastiCache: elastiCacheClient,
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
