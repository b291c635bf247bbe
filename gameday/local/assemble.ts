import { cpus } from 'node:os';

import { scoredBudget } from '../../lambda/gameday-shared/run';
import { LOCAL_SCENARIOS } from '../../lib/gameday/scenarios';
import { renderScore, scoreRun, type Timeline } from '../../lib/gameday/scoring';

import type { Actions } from './actions';
import { buildSeries, cacheHitRatio, summarizeLatency } from './analysis';
import type { DeployGateRecord } from './bad-deploy';
import type { Binaries } from './binaries';
import type { ServerEvent } from './haproxy';
import type { Sample } from './load';
import type { RunPlan } from './plan';
import type { FaultEntry, Region } from './region';
import {
  REPORT_SCHEMA,
  renderLocalChecks,
  type LocalCheck,
  type LocalReport,
  type Marker,
  type PhaseNumbers,
  type RoutingReport,
  type ZonalShiftNumbers,
} from './report';
import { routingCheck, routingReport, type RoutingSetup } from './routing';
import type { WriteCheck } from './writes';

/** Everything a run recorded, turned into its report: the score, the local checks, the numbers. */

export interface RunRecord {
  readonly plan: RunPlan;
  readonly actions: Actions;
  readonly startedAt: Date;
  readonly loadStartedAt: number;
  readonly loadEndedAt: number;
  readonly timeline: Timeline;
  readonly samples: readonly Sample[];
  readonly writes: WriteCheck;
  readonly markers: readonly Marker[];
  readonly balancerEvents: ReadonlyArray<ServerEvent & { readonly region: string }>;
  readonly regions: readonly Region[];
  /** Whether a router (Route 53 in a box) was in front. */
  readonly router: boolean;
  readonly document?: readonly FaultEntry[];
  readonly binaries: Binaries;
  /** The simulated viewers and the regions they were routed to (runs with a router). */
  readonly routing?: RoutingSetup;
  /** bad-deploy: what the deploy gate saw and decided. */
  readonly deployGate?: DeployGateRecord;
}

export function assembleReport(record: RunRecord): LocalReport {
  const { plan, actions, samples, writes, timeline, loadStartedAt, loadEndedAt } = record;
  const { balancerEvents, markers, regions, router, binaries, startedAt, document } = record;
  const scenario = LOCAL_SCENARIOS[plan.scenario];
  const { injectedAt, restoredAt } = timeline;
  const detected = timeline.detectedAt;
  const recovered = timeline.recoveredAt;
  const succeeded = samples.filter((sample) => sample.ok).length;
  // task-loss deregisters its target at once, as StopTask does: "time to detect" would time the
  // deregistration, so it is not scored, as in AWS. (az-outage here is a crash, which the health
  // check does detect: it stays scored.)
  const budget =
    plan.scenario === 'task-loss' ? scoredBudget(plan.scenario, plan.budget) : plan.budget;
  const score = scoreRun(timeline, budget, {
    total: samples.length,
    succeeded,
  });

  const checks: LocalCheck[] = [];
  if (actions.detection === 'gate') {
    checks.push(...deployGateChecks(record.deployGate, samples));
  } else if (actions.detection !== 'none') {
    const after = detected ?? injectedAt;
    checks.push({
      name: 'zero-length responses after ejection',
      measured: samples.filter((sample) => sample.zeroLength && sample.sentAt > after).length,
      budget: 0,
      verdict: 'pass',
      explanation: `zero-length responses to requests sent after ${detected === undefined ? 'the fault (it was never detected)' : 'the balancer stopped routing to the bad part'}`,
    });
  } else {
    checks.push({
      name: 'zero-length responses',
      measured: samples.filter((sample) => sample.zeroLength).length,
      budget: 0,
      verdict: 'pass',
      explanation: 'zero-length responses over the whole run',
    });
    checks.push({
      name: 'targets ejected',
      measured: balancerEvents.filter(
        (event) => event.at >= loadStartedAt && event.state === 'DOWN',
      ).length,
      budget: 0,
      verdict: 'pass',
      explanation: 'slow or cache-less is not broken: no target may be ejected',
    });
  }
  checks.push({
    name: 'acknowledged writes lost',
    measured: writes.lost.length + writes.unreadable.length,
    budget: 0,
    verdict: 'pass',
    explanation: `${writes.acknowledged} acknowledged writes read back; lost ones are missing or different, unreadable ones never answered`,
  });
  const routing =
    record.routing === undefined
      ? undefined
      : routingReport(record.routing, samples, {
          loadStartedAt,
          injectedAt,
          restoredAt,
          loadEndedAt,
        });
  if (routing) checks.push(routingCheck(routing));
  const zonalShift = zonalShiftNumbers(record, injectedAt, restoredAt ?? loadEndedAt);
  if (zonalShift) {
    const ejectionSeconds = (plan.balancer.intervalMs * plan.balancer.unhealthyThreshold) / 1000;
    checks.push({
      name: 'time to zonal shift',
      measured: zonalShift.timeToShiftSeconds,
      budget: ejectionSeconds,
      verdict: 'pass',
      explanation: `from the shift away from ${zonalShift.target} to the last request that failed or reached it; within the health check's ejection budget (${ejectionSeconds} s), or the shift did not help. User errors: ${zonalShift.before.errors} of ${zonalShift.before.requests} before the shift, ${zonalShift.during.errors} of ${zonalShift.during.requests} during it, ${zonalShift.after.errors} of ${zonalShift.after.requests} after it`,
    });
  }
  const localChecks = checks.map((check) => ({
    ...check,
    verdict: check.measured <= check.budget ? ('pass' as const) : ('fail' as const),
  }));
  const verdict =
    score.verdict === 'pass' && localChecks.every((check) => check.verdict === 'pass')
      ? 'pass'
      : 'fail';

  const phaseNumbers = (from: number, to: number): PhaseNumbers | undefined => {
    if (to <= from) return undefined;
    const within = samples.filter((sample) => sample.at >= from && sample.at < to);
    return {
      from,
      to,
      requests: within.length,
      succeeded: within.filter((sample) => sample.ok).length,
      zeroLength: within.filter((sample) => sample.zeroLength).length,
      cacheHitRatio: cacheHitRatio(within),
      latency: summarizeLatency(within),
    };
  };
  const faultEnd = restoredAt ?? recovered ?? loadEndedAt;
  const countBy = (values: string[]) =>
    values.reduce<Record<string, number>>((counts, value) => {
      counts[value] = (counts[value] ?? 0) + 1;
      return counts;
    }, {});
  const latency = summarizeLatency(samples);
  const zeroLength = samples.filter((sample) => sample.zeroLength);
  const summary = [
    `${scenario.title} — ${plan.scenario}${plan.quick ? ' (quick mode)' : ''}`,
    `Hypothesis: ${scenario.hypothesis}`,
    `Fault: ${actions.description}.`,
    renderScore(score),
    renderLocalChecks(localChecks),
    ...(record.deployGate ? [renderDeployGate(record.deployGate)] : []),
    `Requests: ${samples.length} (${succeeded} succeeded), zero-length ${zeroLength.length}, latency p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms.`,
    `Writes: ${writes.acknowledged} acknowledged, ${writes.verified} read back intact, ${writes.lost.length} lost, ${writes.unreadable.length} unreadable.`,
    ...(routing ? [renderRouting(routing)] : []),
    `Budget: ${budget.derivation}.`,
    `Verdict: ${verdict.toUpperCase()}`,
  ].join('\n');

  const bucketMs = plan.quick ? 500 : 1000;
  return {
    schema: REPORT_SCHEMA,
    scenario: {
      name: plan.scenario,
      title: scenario.title,
      hypothesis: scenario.hypothesis,
      blastRadius: scenario.blastRadius,
    },
    quick: plan.quick,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    loadStartedAt,
    loadEndedAt,
    plan: {
      timeScale: plan.timeScale,
      balancer: plan.balancer,
      router: router ? plan.router : undefined,
      faultPollSeconds: plan.faultPollSeconds,
      baselineSeconds: plan.baselineSeconds,
      holdSeconds: actions.restore ? plan.holdSeconds : undefined,
      replacementDelaySeconds: plan.replacementDelaySeconds,
      tailSeconds: plan.tailSeconds,
      rate: plan.rate,
      maxInFlight: plan.maxInFlight,
      notes: plan.notes,
    },
    settings: plan.settings,
    budget: plan.budget,
    topology: {
      regions: regions.map((region) => ({
        name: region.name,
        loadBalancer: binaries.haproxyVersion,
        targets: [...region.replicas.keys()].map((az) => ({
          name: az,
          taskIds: region.tasks
            .filter((task) => task.availabilityZone === az)
            .map((task) => task.taskId),
        })),
        memcachedNodes: region.memcached.size,
      })),
      router,
      database: 'dynalite (one table shared by every region, standing in for the global table)',
    },
    fault: { description: actions.description, badTargets: actions.badTargets, document },
    ...(record.deployGate ? { deployGate: record.deployGate } : {}),
    timeline,
    markers: [...markers].sort((a, b) => a.at - b.at),
    score,
    localChecks,
    ...(zonalShift ? { zonalShift } : {}),
    verdict,
    summary,
    requests: {
      total: samples.length,
      succeeded,
      zeroLength: zeroLength.length,
      byStatus: countBy(samples.map((sample) => String(sample.status))),
      errors: countBy(samples.flatMap((sample) => (sample.error ? [sample.error] : []))),
      latency,
      phases: {
        baseline: phaseNumbers(loadStartedAt, injectedAt),
        fault: phaseNumbers(injectedAt, faultEnd),
        after: phaseNumbers(faultEnd, loadEndedAt),
      },
    },
    zeroLengthResponses: zeroLength.map((sample: Sample) => ({
      sentAt: sample.sentAt,
      at: sample.at,
      target: sample.target,
    })),
    writes,
    routing,
    balancerEvents: balancerEvents
      .filter((event) => event.at >= loadStartedAt)
      .map((event) => ({
        at: event.at,
        target: `${event.region}/${event.server}`,
        state: event.state,
        reason: event.reason,
      })),
    series: {
      bucketSeconds: bucketMs / 1000,
      buckets: buildSeries(samples, loadStartedAt, loadEndedAt, bucketMs),
    },
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      haproxy: binaries.haproxyVersion,
      memcached: binaries.memcachedVersion,
    },
  };
}

/** One line per simulated viewer: the region that answered its last request in each phase. */
export function renderRouting(routing: RoutingReport): string {
  const width = Math.max(...routing.viewers.map((viewer) => viewer.name.length));
  const lines = routing.viewers.map((viewer) => {
    const phases = (['before', 'during', 'after'] as const).flatMap((phase) => {
      const routed = viewer.phases[phase];
      if (!routed) return [];
      const mark = routed.last === routed.expected ? '' : ` (rule: ${routed.expected})`;
      return [`${routed.last ?? 'no answer'}${mark}`];
    });
    return `  ${viewer.name.padEnd(width)}  ${phases.join(' → ')}`;
  });
  return [
    `Routing (before → during → after the evacuation of ${routing.evacuated}):`,
    ...lines,
  ].join('\n');
}

/**
 * bad-deploy's checks: users got no empty body over the whole run, the control call saw the empty
 * 200 the gate is there to catch (otherwise the run proves nothing), the gate refused the revision,
 * and HAProxy never got it.
 */
export function deployGateChecks(
  gate: DeployGateRecord | undefined,
  samples: readonly Sample[],
): LocalCheck[] {
  const controlCaughtEmpty =
    gate !== undefined && gate.control.status === 200 && gate.control.bytes === 0;
  return [
    {
      name: 'zero-length responses delivered to users',
      measured: samples.filter((sample) => sample.zeroLength).length,
      budget: 0,
      verdict: 'pass',
      explanation: 'zero-length responses any user request got, over the whole run',
    },
    {
      name: 'control call without an empty 200',
      measured: controlCaughtEmpty ? 0 : 1,
      budget: 0,
      verdict: 'pass',
      explanation:
        gate === undefined
          ? 'the new revision never started'
          : `a plain GET ${gate.control.path} straight to the new revision answered ${gate.control.status} with ${gate.control.bytes} bytes: it must be the empty 200 the gate has to catch`,
    },
    {
      name: 'bad revisions the deploy gate passed',
      measured: gate === undefined || gate.verdict.passed ? 1 : 0,
      budget: 0,
      verdict: 'pass',
      explanation:
        gate === undefined
          ? 'the gate never ran'
          : `the gate ran ${gate.verdict.checks.length} checks over ${gate.verdict.attempts} attempt(s)`,
    },
    {
      name: 'bad revisions registered in HAProxy',
      measured: gate?.registered ? 1 : 0,
      budget: 0,
      verdict: 'pass',
      explanation: 'a revision the gate passes is registered in HAProxy, as a deployment would',
    },
  ];
}

/** The gate's verdict in the summary: the decision and each failed check. */
export function renderDeployGate(gate: DeployGateRecord): string {
  return [
    `Deploy gate: ${gate.verdict.passed ? 'PASSED' : 'REFUSED'} ${gate.revisionTaskId} after ${gate.verdict.attempts} attempt(s), ${gate.verdict.checks.length} checks, in ${((gate.gateEndedAt - gate.gateStartedAt) / 1000).toFixed(1)} s; control GET ${gate.control.path}: ${gate.control.status}, ${gate.control.bytes} bytes.`,
    ...gate.verdict.problems.map((problem) => `  ${problem}`),
  ].join('\n');
}

/** The numbers of az-outage's local zonal shift (see `ZonalShiftNumbers`); undefined without one. */
export function zonalShiftNumbers(
  record: Pick<RunRecord, 'actions' | 'samples'>,
  injectedAt: number,
  end: number,
): ZonalShiftNumbers | undefined {
  const shift = record.actions.zonalShift;
  const startedAt = shift?.startedAt();
  if (!shift || startedAt === undefined) return undefined;
  const { samples } = record;
  const bad = (sample: Sample) => !sample.ok || sample.target === shift.target;
  const during = samples.filter((sample) => sample.sentAt >= startedAt && sample.sentAt < end);
  const lastBad = during
    .filter(bad)
    .reduce<number | undefined>(
      (last, sample) => Math.max(last ?? sample.sentAt, sample.sentAt),
      undefined,
    );
  const shiftedAt = lastBad ?? startedAt;
  const count = (within: readonly Sample[]) => ({
    requests: within.length,
    errors: within.filter((sample) => !sample.ok).length,
  });
  const endedAt = shift.endedAt();
  return {
    target: shift.target,
    startedAt,
    ...(endedAt !== undefined ? { endedAt } : {}),
    shiftedAt,
    timeToShiftSeconds: Math.round(shiftedAt - startedAt) / 1000,
    before: count(samples.filter((s) => s.sentAt >= injectedAt && s.sentAt < startedAt)),
    during: count(during.filter((s) => s.sentAt <= shiftedAt)),
    after: count(during.filter((s) => s.sentAt > shiftedAt)),
    servedByShiftedAz: during.filter((s) => s.target === shift.target).length,
  };
}
