/**
 * az-outage: take one AZ out of the service. Its subnets leave the service's awsvpc configuration
 * (so no replacement lands there) and its tasks stop. The original configuration is remembered in
 * the state table before anything changes; `restore`, or the scheduled sweep once the fault
 * expires, puts it back exactly.
 */
import type { ChaosEnv } from '../shared/env';
import { GuardrailRefusal } from '../shared/errors';
import { availabilityZoneField, baseFaultShape, refineTargeting } from '../shared/events';
import { ChaosDeps, ExperimentResult, Planner, runExperiment } from '../shared/experiment';
import { faultedTaskIds } from '../shared/fault-document';
import { assertWithinBlastRadius, capacityOf, isRunning } from '../shared/targeting';
import { parseObject } from '../shared/validation';

export function parseAzOutageEvent(raw: unknown, env: ChaosEnv) {
  return parseObject({ ...baseFaultShape(env), availabilityZone: availabilityZoneField() }, raw, {
    refine: (event, problems) => refineTargeting(env, event, problems),
  });
}
export type AzOutageEvent = ReturnType<typeof parseAzOutageEvent>;

export const planAzOutage: Planner<AzOutageEvent> = async (event, ctx) => {
  const az = event.availabilityZone;
  const original = ctx.service.awsvpcConfiguration;
  const subnets = original?.subnets ?? [];
  if (!original || subnets.length === 0) {
    throw new GuardrailRefusal(
      'no-target',
      `service ${ctx.service.serviceName} has no awsvpc subnets to take ${az} out of`,
    );
  }
  // Subnet AZs come from SUBNET_AZS (the VPC's layout, from CDK), else from where tasks run.
  const azOf = (subnet: string): string | undefined =>
    ctx.deps.env.subnetAvailabilityZones[subnet] ??
    ctx.tasks.find((t) => t.subnetId === subnet)?.availabilityZone;
  const unknown = subnets.filter((s) => azOf(s) === undefined);
  if (unknown.length > 0) {
    throw new GuardrailRefusal(
      'no-target',
      `cannot tell the AZ of subnet(s) ${unknown.join(', ')}; add them to SUBNET_AZS`,
    );
  }
  const lost = subnets.filter((s) => azOf(s) === az);
  const kept = subnets.filter((s) => azOf(s) !== az);
  if (lost.length === 0) {
    const azs = [...new Set(subnets.map(azOf))].join(', ');
    throw new GuardrailRefusal(
      'no-target',
      `service ${ctx.service.serviceName} has no subnet in ${az}; its subnets are in ${azs}`,
    );
  }
  if (kept.length === 0) {
    throw new GuardrailRefusal(
      'blast-radius',
      `every subnet of service ${ctx.service.serviceName} is in ${az}; taking it out would stop the service`,
    );
  }
  const azTasks = ctx.tasks.filter((t) => isRunning(t) && t.availabilityZone === az);
  const ids = azTasks.map((t) => t.taskId);
  assertWithinBlastRadius({
    service: ctx.service,
    tasks: ctx.tasks,
    capacity: capacityOf(ctx.tasks, await ctx.deps.targetHealth?.()),
    affectedTaskIds: new Set([...faultedTaskIds(await ctx.faultDocument(), ctx.now), ...ids]),
    maxTaskShare: ctx.deps.env.maxTaskShare,
    what: `an outage of ${az} (${ids.length} task(s))`,
  });
  return {
    summary:
      `take ${az} out: subnets ${lost.join(', ')} leave the service and ${ids.length} task(s) ` +
      `stop, until ${ctx.expiresAt.toISOString()}`,
    affectedTaskIds: ids,
    stopTasks: azTasks.map(({ taskArn, taskId }) => ({ taskArn, taskId })),
    addFaults: [],
    network: { original, wanted: { ...original, subnets: kept } },
  };
};

export function azOutage(event: AzOutageEvent, deps: ChaosDeps): Promise<ExperimentResult> {
  return runExperiment('az-outage', event, planAzOutage, deps);
}
