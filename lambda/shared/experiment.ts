/**
 * The guarded life of one experiment, shared by every fault function:
 *
 *   preflight (region-impaired alarm, chaos-enabled tag) -> lease -> tidy up after an expired
 *   holder -> plan (targets, blast radius) -> remember (state table) -> apply -> record.
 *
 * A dry run goes through the same checks, reads only, and reports the plan.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AwsVpcConfiguration, ECSClient } from '@aws-sdk/client-ecs';
import type { SSMClient } from '@aws-sdk/client-ssm';

import type { Audit } from './audit';
import type { CacheNodes } from './cache-nodes';
import {
  ServiceInfo,
  StopOutcome,
  TaskInfo,
  WriteOutcome,
  assertOptedIn,
  describeService,
  listServiceTasks,
  sameNetwork,
  stopTasks,
  updateServiceNetwork,
} from './ecs';
import type { ChaosEnv } from './env';
import { ChaosError, GuardrailRefusal, LeaseHeldError } from './errors';
import {
  Fault,
  FaultDocument,
  readFaultDocument,
  sameFault,
  withFaultsAdded,
  withFaultsRemoved,
  writeFaultDocument,
} from './fault-document';
import type { ProbeResult } from './probe';
import {
  ExperimentKind,
  ExperimentState,
  StateTable,
  acquireLease,
  readLease,
  readState,
  releaseLease,
  writeState,
} from './state-table';
import type { TargetHealthEntry } from './targeting';

/** Everything the logic touches, passed in so that tests can pass fakes. */
export interface ChaosDeps {
  readonly env: ChaosEnv;
  readonly ecs: ECSClient;
  readonly ssm: SSMClient;
  readonly cloudWatch: CloudWatchClient;
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
   * @default - capacity from ECS alone: every RUNNING task counts as serving
   */
  readonly targetHealth?: () => Promise<readonly TargetHealthEntry[]>;
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
  readonly rebootedCacheNodes?: 'done';
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
  cloudWatch: CloudWatchClient,
  alarmName: string,
): Promise<void> {
  const out = await cloudWatch.send(
    new DescribeAlarmsCommand({
      AlarmNames: [alarmName],
      AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
    }),
  );
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
    if (mine?.status === 'restored') {
      throw new GuardrailRefusal(
        'already-restored',
        `experiment ${event.experimentId} already ran and was restored at ${mine.restoredAt}; ` +
          'use a new experimentId to run it again',
      );
    }
    if (mine?.appliedAt) return resultOf(mine, env, service, 'already-applied');

    const expiresAt = mine
      ? new Date(mine.faultExpiresAt)
      : new Date(now.getTime() + event.durationMinutes * 60_000);
    const expired = previous && !mine && previous.status === 'active' ? previous : undefined;
    if (expired?.plan.network && kind !== 'az-outage') {
      // Only az-outage and restore may update the service (least privilege), so the others wait.
      throw new GuardrailRefusal(
        'pending-restore',
        `experiment ${expired.experimentId} changed the service's network and is not restored yet; ` +
          `the restore sweep puts it back within a minute of ${expired.faultExpiresAt}, or invoke ` +
          `restore with {"experimentId": "${expired.experimentId}"}`,
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
        ...(expired ? { restoredExpired: expired.experimentId } : {}),
      };
    }

    await acquireLease(deps.table, target, event.experimentId, expiresAt, now);
    deps.audit.record({ ...scope, action: 'acquire-lease', target, outcome: 'done' });
    let plan: ExperimentPlan;
    try {
      let current = service;
      if (expired) {
        await restoreExperiment(expired, deps, `replaced by ${event.experimentId}`);
        // Plan against the service as restored, so that what is remembered is the true original.
        current = await describeService(deps.ecs, env.clusterArn, env.service);
      }
      if (mine) {
        plan = mine.plan; // resume a run that failed part-way: same targets, same remembered state
      } else {
        const tasks = await listServiceTasks(deps.ecs, env.clusterArn, current.serviceName);
        plan = await planner(event, planContext(deps, current, tasks, now, expiresAt));
      }
    } catch (error) {
      if (!mine) await releaseLease(deps.table, target, event.experimentId);
      throw error;
    }

    const state: ExperimentState = mine ?? {
      experimentId: event.experimentId,
      kind,
      status: 'active',
      startedAt: now.toISOString(),
      faultExpiresAt: expiresAt.toISOString(),
      plan,
    };
    await writeState(deps.table, target, state); // remembered before anything changes
    const outcomes = await applyPlan(plan, deps, event.experimentId);
    const applied: ExperimentState = { ...state, appliedAt: deps.now().toISOString(), outcomes };
    await writeState(deps.table, target, applied);
    return {
      ...resultOf(applied, env, service, 'applied'),
      ...(expired ? { restoredExpired: expired.experimentId } : {}),
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
    await deps.cacheNodes().reboot(plan.rebootCacheNodes.clusterId, plan.rebootCacheNodes.nodeIds);
    deps.audit.record({
      experimentId,
      action: 'reboot-cache-nodes',
      target: plan.rebootCacheNodes.clusterId,
      outcome: 'done',
      detail: plan.rebootCacheNodes.nodeIds.join(','),
    });
    outcomes.rebootedCacheNodes = 'done';
  }
  return outcomes;
}

export interface RestoreOutcomes {
  readonly network?: WriteOutcome | 'already-original';
  readonly faultsRemoved: number;
}

/**
 * Undoes an experiment's changes back to the remembered state: the service's original awsvpc
 * configuration, exactly, and the removal of exactly the faults it added. Safe to repeat.
 * Stopped tasks need nothing (ECS replaced them); a cache reboot cannot be undone.
 * Call only while holding the service's lease.
 */
export async function restoreExperiment(
  state: ExperimentState,
  deps: ChaosDeps,
  restoredBy: string,
): Promise<RestoreOutcomes> {
  const { env } = deps;
  const scope = { audit: deps.audit, experimentId: state.experimentId };
  let network: RestoreOutcomes['network'];
  if (state.plan.network) {
    const current = await describeService(deps.ecs, env.clusterArn, env.service);
    network = sameNetwork(current.awsvpcConfiguration, state.plan.network.original)
      ? 'already-original'
      : await updateServiceNetwork(
          deps.ecs,
          env.clusterArn,
          env.service,
          state.plan.network.original,
          scope,
        );
  }
  let faultsRemoved = 0;
  if (state.plan.addFaults.length > 0) {
    const doc = await readFaultDocument(deps.ssm, env.faultsParameter);
    const next = withFaultsRemoved(doc, state.plan.addFaults, deps.now());
    faultsRemoved = doc.faults.filter((f) =>
      state.plan.addFaults.some((a) => sameFault(a, f)),
    ).length;
    // Rewritten only when something changes; expired faults are dropped on the way.
    if (next.faults.length !== doc.faults.length) {
      await writeFaultDocument(deps.ssm, env.faultsParameter, next);
    }
  }
  await writeState(deps.table, env.service, {
    ...state,
    status: 'restored',
    restoredAt: deps.now().toISOString(),
    restoredBy,
  });
  deps.audit.record({
    ...scope,
    action: 'restore',
    target: env.service,
    outcome: 'done',
    detail: `network ${network ?? 'untouched'}, ${faultsRemoved} fault(s) removed, by ${restoredBy}`,
  });
  return { ...(network ? { network } : {}), faultsRemoved };
}
