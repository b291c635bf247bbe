import { cpus } from 'node:os';

import { scoredBudget } from '../../lambda/gameday-shared/run';
import { SCENARIOS } from '../../lib/gameday/scenarios';
import { renderScore, scoreRun, type Timeline } from '../../lib/gameday/scoring';

import type { Actions } from './actions';
import { buildSeries, cacheHitRatio, summarizeLatency } from './analysis';
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
  type ZonalShiftNumbers,
} from './report';
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
}

export function assembleReport(record: RunRecord): LocalReport {
  const { plan, actions, samples, writes, timeline, loadStartedAt, loadEndedAt } = record;
  const { balancerEvents, markers, regions, router, binaries, startedAt, document } = record;
  const scenario = SCENARIOS[plan.scenario];
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
  if (actions.detection !== 'none') {
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
    `Requests: ${samples.length} (${succeeded} succeeded), zero-length ${zeroLength.length}, latency p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms.`,
    `Writes: ${writes.acknowledged} acknowledged, ${writes.verified} read back intact, ${writes.lost.length} lost, ${writes.unreadable.length} unreadable.`,
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
