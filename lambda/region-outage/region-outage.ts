/**
 * region-outage: every task of this region gets the `health-fail` fault, so the region fails its
 * Route 53 health check and geoproximity routing sends its users elsewhere.
 *
 * Its blast radius is one whole region by design, so the per-task share does not apply. Its
 * guardrails are instead: never more than one region at once (it refuses unless every other
 * region's endpoint in CANARY_TARGETS answers healthy right now, so there is somewhere for users
 * to go and no other region is already out), the region-impaired preflight, the lease, and expiry.
 */
import type { ChaosEnv } from '../shared/env';
import { GuardrailRefusal } from '../shared/errors';
import { baseFaultShape } from '../shared/events';
import { ChaosDeps, ExperimentResult, Planner, runExperiment } from '../shared/experiment';
import type { Fault } from '../shared/fault-document';
import { parseObject } from '../shared/validation';

export function parseRegionOutageEvent(raw: unknown, env: ChaosEnv) {
  return parseObject(baseFaultShape(env), raw);
}
export type RegionOutageEvent = ReturnType<typeof parseRegionOutageEvent>;

export const planRegionOutage: Planner<RegionOutageEvent> = async (_event, ctx) => {
  const others = await ctx.deps.probeOtherRegions();
  if (others.length === 0) {
    throw new GuardrailRefusal(
      'other-region-unhealthy',
      'CANARY_TARGETS names no other region, so taking this one out could leave users nowhere to go',
    );
  }
  const unhealthy = others.filter((p) => !p.ok);
  if (unhealthy.length > 0) {
    throw new GuardrailRefusal(
      'other-region-unhealthy',
      `other region(s) are not healthy right now: ` +
        unhealthy.map((p) => `${p.name} (${p.failure ?? 'failed'})`).join(', ') +
        '; only one region may be out at a time',
    );
  }
  const fault: Fault = {
    type: 'health-fail',
    targets: ['*'],
    expiresAt: ctx.expiresAt.toISOString(),
    params: { status: 503 },
  };
  return {
    summary: `health-fail on every task of ${ctx.deps.env.region} until ${fault.expiresAt}`,
    affectedTaskIds: ['*'],
    stopTasks: [],
    addFaults: [fault],
  };
};

export function regionOutage(event: RegionOutageEvent, deps: ChaosDeps): Promise<ExperimentResult> {
  return runExperiment('region-outage', event, planRegionOutage, deps);
}
