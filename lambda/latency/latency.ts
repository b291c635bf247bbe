/** latency: chosen tasks add `latencyMs` to a `ratio` share of their responses. */
import type { ChaosEnv } from '../shared/env';
import { baseFaultShape, ratioField, refineTargeting, targetingShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, runExperiment } from '../shared/experiment';
import { taskFaultPlanner } from '../shared/task-faults';
import { integer, parseObject } from '../shared/validation';

export function parseLatencyEvent(raw: unknown, env: ChaosEnv) {
  return parseObject(
    {
      ...baseFaultShape(env),
      ...targetingShape(),
      ratio: ratioField(),
      latencyMs: integer(1, 30_000, ' (ms)'),
    },
    raw,
    { refine: (event, problems) => refineTargeting(env, event, problems) },
  );
}
export type LatencyEvent = ReturnType<typeof parseLatencyEvent>;

export const planLatency = taskFaultPlanner<LatencyEvent>('latency', (e) => ({
  ratio: e.ratio,
  latencyMs: e.latencyMs,
}));

export function latency(event: LatencyEvent, deps: ChaosDeps): Promise<ExperimentResult> {
  return runExperiment('latency', event, planLatency, deps);
}
