/**
 * The guarded life of one experiment, shared by every fault function:
 *
 *   preflight (region-impaired alarm, chaos-enabled tag) -> lease -> restore an unrestored
 *   predecessor -> plan (targets, blast radius) -> remember (`planned`) -> `applying` -> apply ->
 *   `active`. Each state change is one conditional write (see `experiment-states.ts`).
 *
 * A dry run goes through the same checks, reads only, and reports the plan.
 */
import type { AwsVpcConfiguration } from '@aws-sdk/client-ecs';

import type { Audit } from './audit';
import type { CacheNodes } from './cache-nodes';
import type { CloudWatchCalls } from './cloudwatch-api';
import {
  ServiceInfo,
  StopOutcome,
  TaskInfo,
  WriteOutcome,
  assertOptedIn,
  describeService,
  listServiceTasks,
  stopTasks,
  updateServiceNetwork,
} from './ecs';
import type { EcsCalls } from './ecs-api';
import type { ChaosEnv } from './env';
import { ChaosError, GuardrailRefusal, LeaseHeldError } from './errors';
import { IN_FLIGHT_WINDOW_MS, leaseExpiryFor } from './experiment-states';
import {
  Fault,
  FaultDocument,
  readFaultDocument,
  withFaultsAdded,
  writeFaultDocument,
} from './fault-document';
import type { ProbeResult } from './probe';
import { restoreExperiment, undoChanges } from './restore-experiment';
import type { SsmCalls } from './ssm-api';
import {
  ExperimentKind,
  ExperimentState,
  StateChangedError,
  StateTable,
  acquireLease,
  createState,
  readLease,
  readState,
  releaseLease,
  transition,
} from './state-table';
import type { TargetHealthEntry } from './targeting';
import type { EndShiftsResult } from './zonal-shift';

/** Everything the logic touches, passed in so that tests can pass fakes. */
export interface ChaosDeps {
  readonly env: ChaosEnv;
  readonly ecs: EcsCalls;
  readonly ssm: SsmCalls;
  readonly cloudWatch: CloudWatchCalls;
  readonly table: StateTable;
  /** Only cache-outage reboots cache nodes. */
  readonly cacheNodes: () => CacheNodes;
  /** Only region-outage probes other regions' endpoints. */
  readonly probeOtherRegions: () => Promise<readonly ProbeResult[]>;
  readonly audit: Audit;
  readonly now: () => Date;
  readonly random: () => number;
  /**
   * The service's target health (DescribeTargetHealth of its target group): the blast-radius cap
   * counts healthy targets, and only tasks with a healthy target are picked (see `targeting.ts`).
   * Production always wires it (`deps.ts`, from TARGET_GROUP_ARNS); a failed read refuses the
   * experiment. Tests that leave it out count capacity from ECS alone.
   * @default - capacity from ECS alone: every RUNNING task counts as serving (tests only)
   */
  readonly targetHealth?: () => Promise<readonly TargetHealthEntry[]>;
  /**
   * Ends an experiment's ARC zonal shift (the az-outage game day's mitigation): restore calls it on
   * every exit. See `zonal-shift.ts`.
   * @default - no zonal shift to end: the function has no ZONAL_SHIFT_RESOURCE
   */
  readonly zonalShifts?: ExperimentShifts;
}

/** The experiment's zonal shifts on the service's load balancer, by the experiment id. */
export interface ExperimentShifts {
  /** Cancels every ACTIVE shift of the experiment and lists again; never touches others' shifts. */
  end(experimentId: string): Promise<EndShiftsResult>;
}

/** The fields every fault event has (see `events.ts`). */
export interface BaseFaultEvent {
  readonly experimentId: string;
  readonly dryRun: boolean;
  readonly durationMinutes: number;
  readonly region?: string;
}

/** What an experiment will do. Stored before it acts; `restore` undoes it from here. */
export interface ExperimentPlan {
  readonly summary: string;
  /** Task ids whose behaviour changes (stopped or faulted); `*` for every task. */
  readonly affectedTaskIds: readonly string[];
  readonly stopTasks: readonly { readonly taskArn: string; readonly taskId: string }[];
  readonly addFaults: readonly Fault[];
  readonly network?: {
    readonly original: AwsVpcConfiguration;
    readonly wanted: AwsVpcConfiguration;
  };
  readonly rebootCacheNodes?: { readonly clusterId: string; readonly nodeIds: readonly string[] };
}

export interface PlanContext {
  readonly deps: ChaosDeps;
  readonly service: ServiceInfo;
  /** The service's tasks that are meant to run. */
  readonly tasks: readonly TaskInfo[];
  readonly now: Date;
  /** When this experiment's faults (and lease) expire. */
  readonly expiresAt: Date;
  /** The fault document as it is now (read once, on first use). */
  readonly faultDocument: () => Promise<FaultDocument>;
}

export type Planner<E extends BaseFaultEvent> = (
  event: E,
  ctx: PlanContext,
) => Promise<ExperimentPlan>;

export interface ApplyOutcomes {
  readonly network?: WriteOutcome;
  readonly faults?: 'done';
  readonly stoppedTasks?: readonly StopOutcome[];
  readonly rebootedCacheNodes?: WriteOutcome;
}

export interface ExperimentResult {
  readonly experimentId: string;
  readonly kind: ExperimentKind;
  readonly region: string;
  readonly service: string;
  readonly status: 'dry-run' | 'applied' | 'already-applied';
  readonly expiresAt: string;
  readonly plan: ExperimentPlan;
  readonly outcomes?: ApplyOutcomes;
  /** An expired experiment whose changes were undone before this one started. */
  readonly restoredExpired?: string;
}

/**
 * Fails closed: goes ahead only when the region-impaired alarm is known OK. ALARM, INSUFFICIENT_DATA
 * (not enough data to know) and a missing alarm are all refusals.
 */
export async function assertRegionNotImpaired(
  cloudWatch: CloudWatchCalls,
  alarmName: string,
): Promise<void> {
  const out = await cloudWatch.call('DescribeAlarms', {
    AlarmNames: [alarmName],
    AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
  });
  const alarm = [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])][0];
  if (!alarm) {
    throw new GuardrailRefusal(
      'region-impaired',
      `alarm ${alarmName} was not found, so the region's health is unknown; refusing`,
    );
  }
  if (alarm.StateValue === 'ALARM') {
    throw new GuardrailRefusal(
      'region-impaired',
      `alarm ${alarmName} is in ALARM: the region is already impaired, so no fault is added`,
    );
  }
  if (alarm.StateValue !== 'OK') {
    throw new GuardrailRefusal(
      'region-impaired',
      `alarm ${alarmName} is ${alarm.StateValue ?? 'in no state'}, not OK: the region is not known ` +
        'to be healthy, so no fault is added; wait until the alarm has data and is OK',
    );
  }
}

export async function runExperiment<E extends BaseFaultEvent>(
  kind: ExperimentKind,
  event: E,
  planner: Planner<E>,
  deps: ChaosDeps,
): Promise<ExperimentResult> {
  const { env } = deps;
  const target = env.service;
  const scope = { audit: deps.audit, experimentId: event.experimentId };
  const now = deps.now();
  try {
    await assertRegionNotImpaired(deps.cloudWatch, env.regionImpairedAlarm);
    const service = await describeService(deps.ecs, env.clusterArn, env.service);
    assertOptedIn(service);

    const previous = await readState(deps.table, target);
    const mine = previous?.experimentId === event.experimentId ? previous : undefined;
    if (mine) {
      const settled = settledRun(mine, env, service, now);
      if (settled) return settled;
    }
    // Always a fresh expiry, also when a failed run resumes: its old one may have passed.
    const expiresAt = new Date(now.getTime() + event.durationMinutes * 60_000);
    const other = previous && !mine && previous.status !== 'restored' ? previous : undefined;
    if (other?.plan.network && kind !== 'az-outage') {
      // Only az-outage and restore may update the service (least privilege), so the others wait.
      throw new GuardrailRefusal(
        'pending-restore',
        `experiment ${other.experimentId} changed the service's network and is not restored yet; ` +
          `the restore sweep puts it back within a minute of ${other.faultExpiresAt}, or invoke ` +
          `restore with {"experimentId": "${other.experimentId}"}`,
      );
    }

    if (event.dryRun) {
      const lease = await readLease(deps.table, target);
      if (lease && lease.holder !== event.experimentId && lease.expiresAt > now) {
        throw new LeaseHeldError(target, lease.holder, lease.expiresAt);
      }
      const tasks = await listServiceTasks(deps.ecs, env.clusterArn, service.serviceName);
      const plan = await planner(event, planContext(deps, service, tasks, now, expiresAt));
      auditPlan(deps.audit, event.experimentId, plan, 'would-do');
      return {
        experimentId: event.experimentId,
        kind,
        region: env.region,
        service: service.serviceName,
        status: 'dry-run',
        expiresAt: expiresAt.toISOString(),
        plan,
        ...(other ? { restoredExpired: other.experimentId } : {}),
      };
    }

    // The lease outlives the faults by the clock-skew margin (see experiment-states.ts).
    await acquireLease(deps.table, target, event.experimentId, leaseExpiryFor(expiresAt), now);
    deps.audit.record({ ...scope, action: 'acquire-lease', target, outcome: 'done' });
    let planned: ExperimentState;
    try {
      let replacing = previous;
      if (other) {
        const undone = await restoreExperiment(other, deps, `replaced by ${event.experimentId}`);
        if (undone.status !== 'restored') {
          throw new GuardrailRefusal(
            'pending-restore',
            `experiment ${other.experimentId} is not restored yet (${undone.detail}); the restore ` +
              `sweep retries every minute, or invoke restore with {"experimentId": "${other.experimentId}"}`,
          );
        }
        replacing = undone.state;
      }
      if (mine) await undoBeforeResume(mine, deps);
      // Plan against the service as it is now (restored), so that what is remembered is the true
      // original; a resumed run is planned afresh, so the blast radius is checked again.
      const current =
        other || mine ? await describeService(deps.ecs, env.clusterArn, env.service) : service;
      const tasks = await listServiceTasks(deps.ecs, env.clusterArn, current.serviceName);
      const plan = await planner(event, planContext(deps, current, tasks, now, expiresAt));
      const fields = {
        experimentId: event.experimentId,
        kind,
        startedAt: now.toISOString(),
        faultExpiresAt: expiresAt.toISOString(),
        plan,
      };
      // Remembered before anything changes.
      planned = mine
        ? await transition(deps.table, target, mine, 'planned', fields)
        : await createState(deps.table, target, fields, replacing);
    } catch (error) {
      if (!mine) await releaseLease(deps.table, target, event.experimentId);
      throw asRefusal(error, event.experimentId);
    }

    const applying = await transition(deps.table, target, planned, 'applying', {
      inFlightUntil: new Date(deps.now().getTime() + IN_FLIGHT_WINDOW_MS).toISOString(),
    }).catch((error: unknown) => {
      throw asRefusal(error, event.experimentId);
    });
    let outcomes: ApplyOutcomes;
    try {
      outcomes = await applyPlan(applying.plan, deps, event.experimentId);
    } catch (error) {
      // Say that this applier stopped, so that a restore need not wait out its window.
      await transition(deps.table, target, applying, 'applying', {
        inFlightUntil: deps.now().toISOString(),
      }).catch(() => undefined);
      throw error;
    }
    let applied: ExperimentState;
    try {
      applied = await transition(deps.table, target, applying, 'active', {
        appliedAt: deps.now().toISOString(),
        outcomes,
      });
    } catch (error) {
      if (!(error instanceof StateChangedError)) throw error;
      // A restore claimed the experiment while it was applied: take back what this run did, so
      // that nothing it wrote outlives the restore.
      await undoChanges(applying, deps);
      deps.audit.record({ ...scope, action: kind, target, outcome: 'undone' });
      throw new GuardrailRefusal(
        'state-changed',
        `experiment ${event.experimentId} was restored while it was being applied; ` +
          'what this run changed has been undone',
      );
    }
    return {
      ...resultOf(applied, env, service, 'applied'),
      ...(other ? { restoredExpired: other.experimentId } : {}),
    };
  } catch (error) {
    if (error instanceof ChaosError) {
      deps.audit.record({
        ...scope,
        action: kind,
        target,
        outcome: 'refused',
        detail: error.message,
      });
    }
    throw error;
  }
}

/** The answer for a repeated run of an experiment that needs no more work, if it needs none. */
function settledRun(
  mine: ExperimentState,
  env: ChaosEnv,
  service: ServiceInfo,
  now: Date,
): ExperimentResult | undefined {
  switch (mine.status) {
    case 'active':
      return resultOf(mine, env, service, 'already-applied');
    case 'restored':
      throw new GuardrailRefusal(
        'already-restored',
        `experiment ${mine.experimentId} already ran and was restored at ${mine.restoredAt}; ` +
          'use a new experimentId to run it again',
      );
    case 'restoring':
    case 'restore-failed':
      throw new GuardrailRefusal(
        'already-restored',
        `experiment ${mine.experimentId} is being restored (${mine.status}); ` +
          'use a new experimentId to run it again once it is restored',
      );
    case 'applying':
      if (mine.inFlightUntil && Date.parse(mine.inFlightUntil) > now.getTime()) {
        throw new GuardrailRefusal(
          'apply-in-flight',
          `an earlier invocation of experiment ${mine.experimentId} may still be applying it ` +
            `until ${mine.inFlightUntil}; try again after that`,
        );
      }
      return undefined; // it stopped part-way: resume
    case 'planned':
      return undefined;
  }
}

/** A run that stopped part-way resumes from a clean service: what it may have changed is undone. */
async function undoBeforeResume(mine: ExperimentState, deps: ChaosDeps): Promise<void> {
  const outcomes = await undoChanges(mine, deps);
  const network = outcomes.network;
  if (network === 'unknown' || network === 'verified-not-done') {
    throw new GuardrailRefusal(
      'pending-restore',
      `experiment ${mine.experimentId} stopped part-way and its network change could not be ` +
        `undone before resuming (UpdateService ${network}); invoke restore with ` +
        `{"experimentId": "${mine.experimentId}"}`,
    );
  }
}

/** A lost race on the state item becomes a refusal that says what happened. */
function asRefusal(error: unknown, experimentId: string): unknown {
  if (!(error instanceof StateChangedError)) return error;
  return new GuardrailRefusal(
    'state-changed',
    `the state of experiment ${experimentId} changed while this run planned it (${error.message}); ` +
      'nothing was changed',
  );
}

function planContext(
  deps: ChaosDeps,
  service: ServiceInfo,
  tasks: readonly TaskInfo[],
  now: Date,
  expiresAt: Date,
): PlanContext {
  let doc: Promise<FaultDocument> | undefined;
  return {
    deps,
    service,
    tasks,
    now,
    expiresAt,
    faultDocument: () => (doc ??= readFaultDocument(deps.ssm, deps.env.faultsParameter)),
  };
}

function resultOf(
  state: ExperimentState,
  env: ChaosEnv,
  service: ServiceInfo,
  status: ExperimentResult['status'],
): ExperimentResult {
  return {
    experimentId: state.experimentId,
    kind: state.kind,
    region: env.region,
    service: service.serviceName,
    status,
    expiresAt: state.faultExpiresAt,
    plan: state.plan,
    ...(state.outcomes ? { outcomes: state.outcomes } : {}),
  };
}

function auditPlan(
  audit: Audit,
  experimentId: string,
  plan: ExperimentPlan,
  outcome: string,
): void {
  if (plan.network) {
    audit.record({
      experimentId,
      action: 'update-service-network',
      target: 'service',
      outcome,
      detail: `subnets ${(plan.network.wanted.subnets ?? []).join(',')}`,
    });
  }
  for (const fault of plan.addFaults) {
    audit.record({
      experimentId,
      action: 'write-faults',
      target: fault.targets.join(','),
      outcome,
      detail: fault.type,
    });
  }
  for (const task of plan.stopTasks) {
    audit.record({ experimentId, action: 'stop-task', target: task.taskId, outcome });
  }
  if (plan.rebootCacheNodes) {
    audit.record({
      experimentId,
      action: 'reboot-cache-nodes',
      target: plan.rebootCacheNodes.clusterId,
      outcome,
      detail: plan.rebootCacheNodes.nodeIds.join(','),
    });
  }
}

/** Applies a plan: network first (so replacements avoid a lost AZ), then faults, stops, reboots. */
async function applyPlan(
  plan: ExperimentPlan,
  deps: ChaosDeps,
  experimentId: string,
): Promise<ApplyOutcomes> {
  const { env } = deps;
  const scope = { audit: deps.audit, experimentId };
  const outcomes: { -readonly [K in keyof ApplyOutcomes]: ApplyOutcomes[K] } = {};
  if (plan.network) {
    outcomes.network = await updateServiceNetwork(
      deps.ecs,
      env.clusterArn,
      env.service,
      plan.network.wanted,
      scope,
    );
  }
  if (plan.addFaults.length > 0) {
    const doc = await readFaultDocument(deps.ssm, env.faultsParameter);
    await writeFaultDocument(
      deps.ssm,
      env.faultsParameter,
      withFaultsAdded(doc, plan.addFaults, deps.now()),
    );
    for (const fault of plan.addFaults) {
      deps.audit.record({
        experimentId,
        action: 'write-faults',
        target: fault.targets.join(','),
        outcome: 'done',
        detail: `${fault.type} until ${fault.expiresAt}`,
      });
    }
    outcomes.faults = 'done';
  }
  if (plan.stopTasks.length > 0) {
    outcomes.stoppedTasks = await stopTasks(
      deps.ecs,
      env.clusterArn,
      plan.stopTasks,
      `chaos experiment ${experimentId}`,
      scope,
    );
  }
  if (plan.rebootCacheNodes) {
    const outcome = await deps
      .cacheNodes()
      .reboot(plan.rebootCacheNodes.clusterId, plan.rebootCacheNodes.nodeIds);
    deps.audit.record({
      experimentId,
      action: 'reboot-cache-nodes',
      target: plan.rebootCacheNodes.clusterId,
      outcome,
      detail: plan.rebootCacheNodes.nodeIds.join(','),
    });
    outcomes.rebootedCacheNodes = outcome;
  }
  return outcomes;
}
