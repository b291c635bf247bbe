/** empty-responses: chosen tasks answer 200 with an empty body (the `empty-response` fault). */
import type { ChaosEnv } from '../shared/env';
import { baseFaultShape, ratioField, refineTargeting, targetingShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, runExperiment } from '../shared/experiment';
import { taskFaultPlanner } from '../shared/task-faults';
import { parseObject } from '../shared/validation';

export function parseEmptyResponsesEvent(raw: unknown, env: ChaosEnv) {
  return parseObject({ ...baseFaultShape(env), ...targetingShape(), ratio: ratioField() }, raw, {
    refine: (event, problems) => refineTargeting(env, event, problems),
  });
}
export type EmptyResponsesEvent = ReturnType<typeof parseEmptyResponsesEvent>;

export const planEmptyResponses = taskFaultPlanner<EmptyResponsesEvent>('empty-response', (e) => ({
  ratio: e.ratio,
}));

export function emptyResponses(
  event: EmptyResponsesEvent,
  deps: ChaosDeps,
): Promise<ExperimentResult> {
  return runExperiment('empty-responses', event, planEmptyResponses, deps);
}
