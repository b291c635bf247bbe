/**
 * cache-outage: chosen tasks treat the cache as unreachable (the `cache-blackhole` fault), and
 * optionally some cache nodes reboot. Reboots obey the same blast-radius share, over nodes.
 */
import type { ChaosEnv } from '../shared/env';
import { GuardrailRefusal } from '../shared/errors';
import { baseFaultShape, ratioField, refineTargeting, targetingShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, Planner, runExperiment } from '../shared/experiment';
import { shuffle } from '../shared/targeting';
import { taskFaultPlanner } from '../shared/task-faults';
import { boolean, optional, parseObject } from '../shared/validation';

export function parseCacheOutageEvent(raw: unknown, env: ChaosEnv) {
  return parseObject(
    {
      ...baseFaultShape(env),
      ...targetingShape(),
      ratio: ratioField(),
      rebootNodes: optional(boolean(), false),
    },
    raw,
    {
      refine: (event, problems) => {
        refineTargeting(env, event, problems);
        if (event.rebootNodes && !env.cacheClusterId) {
          problems.push(
            'rebootNodes needs the CACHE_CLUSTER_ID environment variable, which this function does not have',
          );
        }
      },
    },
  );
}
export type CacheOutageEvent = ReturnType<typeof parseCacheOutageEvent>;

const planBlackhole = taskFaultPlanner<CacheOutageEvent>('cache-blackhole', (e) => ({
  ratio: e.ratio,
}));

export const planCacheOutage: Planner<CacheOutageEvent> = async (event, ctx) => {
  const plan = await planBlackhole(event, ctx);
  const clusterId = ctx.deps.env.cacheClusterId;
  if (!event.rebootNodes || !clusterId) return plan;
  const nodeIds = await ctx.deps.cacheNodes().available(clusterId);
  const cap = Math.floor(nodeIds.length * ctx.deps.env.maxTaskShare);
  if (cap === 0) {
    throw new GuardrailRefusal(
      'blast-radius',
      `cache cluster ${clusterId} has ${nodeIds.length} available node(s); rebooting even one is ` +
        `over the cap of ${cap} (MAX_TASK_SHARE ${ctx.deps.env.maxTaskShare})`,
    );
  }
  const chosen = shuffle(nodeIds, ctx.deps.random).slice(0, cap).sort();
  return {
    ...plan,
    summary: `${plan.summary}; reboot cache node(s) ${chosen.join(', ')} of ${clusterId}`,
    rebootCacheNodes: { clusterId, nodeIds: chosen },
  };
};

export function cacheOutage(event: CacheOutageEvent, deps: ChaosDeps): Promise<ExperimentResult> {
  return runExperiment('cache-outage', event, planCacheOutage, deps);
}
