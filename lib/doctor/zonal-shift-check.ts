import type { ResolvedConfig } from '../config';

import { CheckResult, ok, warn } from './check';

/**
 * What the az-outage game day's zonal shift needs, granted by the regional stack to its own roles
 * (GameDayOrchestrator): the mitigation function and restore. Listed so that an operator who
 * shifts by hand, or a permission boundary, allows the same.
 */
export const ZONAL_SHIFT_PERMISSIONS = [
  'arc-zonal-shift:StartZonalShift, CancelZonalShift, GetManagedResource (on the ALB, by the arc-zonal-shift:ResourceIdentifier condition)',
  'arc-zonal-shift:ListZonalShifts (no resource-level permission)',
  'ec2:DescribeAvailabilityZones (AZ name to AZ ID; no resource-level permission)',
] as const;

/** ARC's limits that shape how the blueprint uses zonal shift (docs/zonal-shift.md). */
export const ZONAL_SHIFT_LIMITS = [
  'one active customer zonal shift per load balancer, away from one AZ',
  'expiry 1 minute to 3 days (the game day sets the fault duration)',
  'shifts name AZ IDs (euw1-az1), not the account-specific AZ names',
] as const;

/**
 * The capacity one zonal shift leaves in each region, against the alarm that says capacity is low
 * (healthy-hosts-low: it fires during the game day and blocks autoshift practice runs).
 */
export function checkZonalShift(config: ResolvedConfig): CheckResult {
  const id = 'zonal-shift';
  const title = 'zonal shift capacity';
  const { minTasks } = config.sizing;
  const minHealthyHosts = Math.max(1, Math.floor(minTasks * (1 - config.chaos.maxTaskShare)));
  const short: string[] = [];
  for (const r of config.regions) {
    const azs = r.availabilityZones.length;
    // ECS spreads tasks over AZs; the busiest AZ holds ceil(minTasks / azs) of them.
    const left = minTasks - Math.ceil(minTasks / azs);
    if (azs < 3) {
      short.push(`${r.region} has ${azs} AZs: a shift leaves one AZ serving alone`);
    } else if (left < minHealthyHosts) {
      short.push(
        `${r.region}: a shift away from one AZ leaves ${left} of ${minTasks} tasks, below the ${minHealthyHosts} healthy hosts its alarm wants`,
      );
    }
  }
  const autoshift = config.zonalShift.autoshift
    ? 'autoshift on (weekly practice runs end early on region-impaired, blocked by healthy-hosts-low)'
    : 'autoshift off';
  if (short.length > 0) {
    return warn(
      id,
      title,
      `${short.join('; ')}; ${autoshift}`,
      'give each region 3 AZs and raise sizing.minTasks so that the other AZs carry the load without the shifted one (pre-scale: zonal shift does not wait for autoscaling)',
    );
  }
  return ok(
    id,
    title,
    `every region keeps enough tasks with one AZ shifted away; ${autoshift}; needs ${ZONAL_SHIFT_PERMISSIONS.length} permission groups (docs/zonal-shift.md)`,
  );
}
