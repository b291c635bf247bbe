/**
 * The life of one experiment as an explicit state machine. Every state is stored in the service's
 * `state#<service>` item with a `version`; every transition is ONE conditional write of that item
 * (`version` and `status` as read), so of two writers racing from the same state exactly one wins:
 *
 *   (none | restored of another experiment) --create--> planned
 *   planned   -> applying        the applier may now change things, until `inFlightUntil`
 *   planned   -> planned         a resume re-plans (fresh expiry, blast radius checked again)
 *   applying  -> active          every change of the plan was made
 *   applying  -> applying        the applier failed and says it stopped (closes its window)
 *   applying  -> planned         a resume of an applier that stopped or crashed
 *   planned | applying | active | restore-failed -> restoring   a restore claims the experiment
 *   restoring -> restoring       a restore takes over from one that crashed (after its window)
 *   restoring -> restored        each change is verified gone and no applier can still act
 *   restoring -> restore-failed  something is still there (or may be); the sweep retries
 *
 * `restored` is terminal for an experiment id. A late applier whose `applying -> active` write
 * loses (because a restore claimed the experiment) undoes its own changes before it answers.
 */

export const EXPERIMENT_STATUSES = [
  'planned',
  'applying',
  'active',
  'restoring',
  'restored',
  'restore-failed',
] as const;
export type ExperimentStatus = (typeof EXPERIMENT_STATUSES)[number];

/** The allowed transitions, from each state. `restored` has none: a new experiment replaces it. */
export const TRANSITIONS: Readonly<Record<ExperimentStatus, readonly ExperimentStatus[]>> = {
  planned: ['planned', 'applying', 'restoring'],
  applying: ['applying', 'active', 'planned', 'restoring'],
  active: ['restoring'],
  restoring: ['restoring', 'restored', 'restore-failed'],
  restored: [],
  'restore-failed': ['restoring'],
};

/** States in which some change of the experiment may be live (or about to be). */
export const UNRESTORED: readonly ExperimentStatus[] = [
  'planned',
  'applying',
  'active',
  'restoring',
  'restore-failed',
];

export function isAllowedTransition(from: ExperimentStatus, to: ExperimentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * How far apart two clocks may be: the functions', DynamoDB's and the service's. The service
 * compares a fault's `expiresAt` with its own clock, so a fault may act this long after it expires
 * by ours; the lease outlives the fault by this much.
 */
export const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * How long an applier (`applying`) or a restorer (`restoring`) may still be acting after it
 * claimed the state: the functions' 50 s timeout, plus the clock-skew margin. Until then nobody
 * may assume it has stopped; after it, it has (Lambda ended it).
 */
export const IN_FLIGHT_WINDOW_MS = 50_000 + CLOCK_SKEW_MARGIN_MS;

/** The lease of an experiment whose faults expire at `faultExpiresAt`. */
export const leaseExpiryFor = (faultExpiresAt: Date): Date =>
  new Date(faultExpiresAt.getTime() + CLOCK_SKEW_MARGIN_MS);
