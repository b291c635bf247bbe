/**
 * stop-tasks: stop N tasks, or P % of them, optionally only in one AZ.
 *
 * With `fisExperiment: true` it only reserves: the same preflight, lease and blast-radius cap, but
 * no StopTask. The guarded FIS state machine (lib/constructs/chaos/fis-templates.ts) invokes it
 * so, and starts the FIS experiment, which stops that many tasks itself, only once it is applied.
 */
import type { ChaosEnv } from '../shared/env';
import { baseFaultShape, refineTargeting, targetingShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, Planner, runExperiment } from '../shared/experiment';
import { faultedTaskIds } from '../shared/fault-document';
import { assertWithinBlastRadius, capacityOf, pickTasks } from '../shared/targeting';
import { boolean, optional, parseObject } from '../shared/validation';

export function parseStopTasksEvent(raw: unknown, env: ChaosEnv) {
  return parseObject(
    {
      ...baseFaultShape(env),
      ...targetingShape(),
      /** Reserve for a FIS experiment: lease and cap, but FIS stops the tasks. */
      fisExperiment: optional(boolean(), false),
    },
    raw,
    {
      refine: (event, problems) => refineTargeting(env, event, problems),
    },
  );
}
export type StopTasksEvent = ReturnType<typeof parseStopTasksEvent>;

export const planStopTasks: Planner<StopTasksEvent> = async (event, ctx) => {
  const capacity = capacityOf(ctx.tasks, await ctx.deps.targetHealth?.());
  const picked = pickTasks(ctx.tasks, event, ctx.deps.random, capacity);
  const ids = picked.map((t) => t.taskId);
  assertWithinBlastRadius({
    service: ctx.service,
    tasks: ctx.tasks,
    capacity,
    affectedTaskIds: new Set([...faultedTaskIds(await ctx.faultDocument(), ctx.now), ...ids]),
    maxTaskShare: ctx.deps.env.maxTaskShare,
    what: `stopping ${ids.length} task(s)`,
  });
  const where = event.availabilityZone ? ` in ${event.availabilityZone}` : '';
  if (event.fisExperiment) {
    // FIS picks its own tasks among the service's: the cap counts how many, not which.
    return {
      summary:
        `reserve ${ids.length} of ${ctx.tasks.length} task(s)${where} for a FIS experiment ` +
        `that stops them, until ${ctx.expiresAt.toISOString()}`,
      affectedTaskIds: ids,
      stopTasks: [],
      addFaults: [],
    };
  }
  return {
    summary: `stop ${ids.length} of ${ctx.tasks.length} task(s)${where}`,
    affectedTaskIds: ids,
    stopTasks: picked.map(({ taskArn, taskId }) => ({ taskArn, taskId })),
    addFaults: [],
  };
};

export function stopTasks(event: StopTasksEvent, deps: ChaosDeps): Promise<ExperimentResult> {
  return runExperiment('stop-tasks', event, planStopTasks, deps);
}
