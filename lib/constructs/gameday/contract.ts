/**
 * What the game-day CLI relies on from a deployed regional stack: the output keys it looks up and
 * the state names it follows. Kept free of CDK imports so that the CLI loads fast.
 */

/** CloudFormation output keys of each regional stack that runs the game day. */
export const GAMEDAY_OUTPUTS = {
  stateMachineArn: 'GameDayStateMachineArn',
  reportBucket: 'GameDayReportBucket',
  /** The bad-deploy game day's own state machine (docs/gameday/bad-deploy.md). */
  badDeployStateMachineArn: 'BadDeployStateMachineArn',
} as const;

/**
 * The timings of where a scenario runs, beyond what the config deploys (see the construct's
 * props): Fargate start, the service's fault poll with its jitter, and readiness self-ejection.
 */
export const RUNTIME_DEFAULTS = {
  taskStartSeconds: 90,
  faultPollSeconds: 7,
  selfEjectionSeconds: 10,
} as const;

/** The phases a run goes through, in order. */
export const PHASES = ['preflight', 'inject', 'observe', 'restore', 'verify', 'report'] as const;
export type Phase = (typeof PHASES)[number];

/** The state machine's state names, by role. */
export const STATES = {
  baselineTargets: 'Baseline targets',
  canary: 'Canary',
  preflight: 'Preflight',
  steadyState: 'Steady state?',
  whichScenario: 'Which scenario?',
  /** One per scenario: `Inject task-loss`, ... */
  injectPrefix: 'Inject ',
  markInjected: 'Mark injected',
  faultTargets: 'Targets (fault)',
  observe: 'Observe',
  observedEnough: 'Observed enough?',
  faultWait: 'Wait (fault)',
  /** az-outage's mitigation, when the orchestrator has a load balancer to shift. */
  startZonalShift: 'Start zonal shift',
  observeZonalShift: 'Observe zonal shift',
  shifted: 'Shifted?',
  shiftWait: 'Wait (zonal shift)',
  restore: 'Restore',
  markRestored: 'Mark restored',
  recoveryTargets: 'Targets (recovery)',
  verify: 'Verify recovery',
  recovered: 'Recovered?',
  recoveryWait: 'Wait (recovery)',
  report: 'Report',
  outcome: 'Outcome?',
  done: 'Done',
  refused: 'Refused',
  stopped: 'Stopped',
  aborted: 'Aborted',
  restoreFailed: 'Restore failed',
  reportFailed: 'Report failed',
  unexpected: 'Unexpected outcome',
} as const;

/** Which phase a state belongs to; undefined for a name this version does not know. */
export function phaseOfState(name: string): Phase | undefined {
  if (name.startsWith(STATES.injectPrefix)) return 'inject';
  switch (name) {
    case STATES.baselineTargets:
    case STATES.canary:
    case STATES.preflight:
    case STATES.steadyState:
      return 'preflight';
    case STATES.whichScenario:
    case STATES.markInjected:
      return 'inject';
    case STATES.faultTargets:
    case STATES.observe:
    case STATES.observedEnough:
    case STATES.faultWait:
    case STATES.startZonalShift:
    case STATES.observeZonalShift:
    case STATES.shifted:
    case STATES.shiftWait:
      return 'observe';
    case STATES.restore:
    case STATES.markRestored:
      return 'restore';
    case STATES.recoveryTargets:
    case STATES.verify:
    case STATES.recovered:
    case STATES.recoveryWait:
      return 'verify';
    case STATES.report:
    case STATES.outcome:
    case STATES.done:
    case STATES.refused:
    case STATES.stopped:
    case STATES.aborted:
    case STATES.restoreFailed:
    case STATES.reportFailed:
    case STATES.unexpected:
      return 'report';
    default:
      return undefined;
  }
}
