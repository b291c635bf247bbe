/** Schema pieces every guarded fault function shares. */
import type { ChaosEnv } from './env';
import { Field, boolean, integer, number, oneOf, optional, string } from './validation';

export const EXPERIMENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;

/** The fields of every fault event: who, whether for real, where, and for how long. */
export function baseFaultShape(env: ChaosEnv) {
  return {
    experimentId: experimentIdField(),
    // Acting is an explicit opt-in: an event without dryRun changes nothing.
    dryRun: optional(boolean(), true),
    region: optional(ownRegionField(env)),
    durationMinutes: optional(
      integer(1, env.maxFaultDurationMinutes, ' (minutes; MAX_FAULT_DURATION_MINUTES caps it)'),
      Math.min(15, env.maxFaultDurationMinutes),
    ),
  };
}

export function experimentIdField(): Field<string> {
  return string({
    pattern: EXPERIMENT_ID_PATTERN,
    expects: "1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
  });
}

/** A function acts on its own region only: naming another region is refused before any call. */
export function ownRegionField(env: ChaosEnv): Field<string> {
  return oneOf([env.region], ' (a chaos function acts only on its own region)');
}

/** How many tasks to pick: `count` or `percent` (not both), optionally only in one AZ. */
export function targetingShape() {
  return {
    count: optional(integer(1, 1000)),
    percent: optional(number(0, 100, { minExclusive: true })),
    availabilityZone: optional(availabilityZoneField()),
  };
}

export function availabilityZoneField(): Field<string> {
  return string({
    pattern: /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/,
    expects: 'an availability zone name such as us-east-1a',
  });
}

/** Cross-field checks of `targetingShape`. */
export function refineTargeting(
  env: ChaosEnv,
  event: { count?: number; percent?: number; availabilityZone?: string },
  problems: string[],
): void {
  if (event.count !== undefined && event.percent !== undefined) {
    problems.push(
      `give count or percent, not both (got count ${event.count} and percent ${event.percent})`,
    );
  }
  if (event.availabilityZone !== undefined && !event.availabilityZone.startsWith(env.region)) {
    problems.push(
      `availabilityZone must be an AZ of ${env.region} (a chaos function acts only on its own region), ` +
        `got ${JSON.stringify(event.availabilityZone)}`,
    );
  }
}

/** Share of responses a fault applies to. */
export function ratioField(): Field<number> {
  return optional(number(0, 1, { minExclusive: true }), 1);
}
