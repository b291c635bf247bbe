/** stop-tasks: stop N tasks, or P % of them, optionally only in one AZ. */
import type { ChaosEnv } from '../shared/env';
import { baseFaultShape, refineTargeting, targetingShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, Planner, runExperiment } from '../shared/experiment';
import { faultedTaskIds } from '../shared/fault-document';
import { assertWithinBlastRadius, capacityOf, pickTasks } from '../shared/targeting';
import { parseObject } from '../shared/validation';

export function parseStopTasksEvent(raw: unknown, env: ChaosEnv) {
  return parseObject({ ...baseFaultShape(env), ...targetingShape() }, raw, {
    refine: (event, problems) => refineTargeting(env, event, problems),
  });
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
