/** Planning shared by the functions that put a fault on some of the service's tasks. */
import type { Planner, BaseFaultEvent, PlanContext, ExperimentPlan } from './experiment';
import { Fault, FaultParams, FaultType, faultedTaskIds } from './fault-document';
import { TaskRequest, assertWithinBlastRadius, capacityOf, pickTasks } from './targeting';

/**
 * Picks tasks as asked, checks that they plus the tasks live faults already reach stay within the
 * blast radius, and plans one fault on them that expires with the experiment.
 */
export function taskFaultPlanner<E extends BaseFaultEvent & TaskRequest>(
  type: FaultType,
  params: (event: E) => FaultParams,
): Planner<E> {
  return async (event: E, ctx: PlanContext): Promise<ExperimentPlan> => {
    const capacity = capacityOf(ctx.tasks, await ctx.deps.targetHealth?.());
    const picked = pickTasks(ctx.tasks, event, ctx.deps.random, capacity);
    const ids = picked.map((t) => t.taskId);
    const live = faultedTaskIds(await ctx.faultDocument(), ctx.now);
    assertWithinBlastRadius({
      service: ctx.service,
      tasks: ctx.tasks,
      capacity,
      affectedTaskIds: new Set([...live, ...ids]),
      maxTaskShare: ctx.deps.env.maxTaskShare,
      what: `a ${type} fault on ${ids.length} task(s)`,
    });
    const fault: Fault = {
      type,
      targets: ids,
      expiresAt: ctx.expiresAt.toISOString(),
      params: params(event),
    };
    return {
      summary: `${type} on ${ids.length} of ${ctx.tasks.length} task(s) until ${fault.expiresAt}`,
      affectedTaskIds: ids,
      stopTasks: [],
      addFaults: [fault],
    };
  };
}
