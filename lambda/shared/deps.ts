/** The real dependencies of a deployed guarded function, built on first use and kept. */
import { powertoolsAudit } from './audit';
import type { CacheNodes } from './cache-nodes';
import { cloudWatchApi } from './clients/cloudwatch-api';
import { dynamoDbApi } from './clients/dynamodb';
import { ecsApi } from './clients/ecs-api';
import { ssmApi } from './clients/ssm-api';
import { loadCanaryEnv, loadChaosEnv } from './env';
import { EnvironmentError } from './errors';
import type { ChaosDeps, ExperimentShifts } from './experiment';
import type { HandlerDeps } from './handler';
import { StateTableIdempotencyStore } from './idempotency-store';
import { metrics } from './metrics';
import { logger } from './powertools';
import { isRegionTarget, probe } from './probe';
import type { TargetHealthReader } from './target-health';

let deps: HandlerDeps | undefined;

/** For the functions that never reboot cache nodes: keeps the ElastiCache client out of them. */
const noCacheNodes = (): never => {
  throw new Error('this function does not call ElastiCache');
};

/**
 * For the functions that never count target health. There is no fallback to counting RUNNING
 * tasks: a function that plans against the cap without declaring `targetHealth` fails closed.
 */
const noTargetHealth = (): never => {
  throw new EnvironmentError(
    'this function does not read target health (its handler passes no targetHealth)',
  );
};

/** The production chaos dependencies: target health is always wired, never left to a fallback. */
export type ProductionChaosDeps = ChaosDeps & { readonly targetHealth: TargetHealthReader };

/**
 * The deployed dependencies. Only cache-outage passes `cacheNodes` (from `clients/elasticache`),
 * so that only it loads the ElastiCache client; only the functions that count target health pass
 * `targetHealth` (`targetGroupHealth` of `target-group-health.ts`), so that only they load the
 * ELBv2 client. This module imports neither.
 * Throws EnvironmentError while an environment variable is missing.
 */
export function productionDeps(
  options: {
    readonly cacheNodes?: () => CacheNodes;
    readonly targetHealth?: () => TargetHealthReader;
    /** Only restore ends zonal shifts (`experimentShifts` of `experiment-shifts.ts`). */
    readonly zonalShifts?: () => ExperimentShifts | undefined;
  } = {},
): HandlerDeps {
  if (deps) return deps;
  const env = loadChaosEnv();
  const chaos: ProductionChaosDeps = {
    env,
    ecs: ecsApi(),
    ssm: ssmApi(),
    cloudWatch: cloudWatchApi(),
    table: { api: dynamoDbApi(), tableName: env.stateTable },
    cacheNodes: options.cacheNodes ?? noCacheNodes,
    targetHealth: options.targetHealth ? options.targetHealth() : noTargetHealth,
    ...(options.zonalShifts ? { zonalShifts: options.zonalShifts() } : {}),
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
    persistence: new StateTableIdempotencyStore(dynamoDbApi(), env.stateTable),
    logger,
    metrics,
  };
  return deps;
}
