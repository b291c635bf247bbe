import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { Budget, DeployedSettings, LocalScenarioName } from '../../lib/gameday/scenarios';
import type { Score, Timeline, Verdict } from '../../lib/gameday/scoring';

import type { Bucket, LatencySummary } from './analysis';
import type { DeployGateRecord } from './bad-deploy';
import { renderHtml } from './html';
import type { BalancerSettings, RouterSettings } from './plan';
import type { FaultEntry } from './region';
import type { WriteCheck } from './writes';

/** What a local run records: the JSON file is this object, and the HTML page is drawn from it. */

export const REPORT_SCHEMA = 'blueprint-local-gameday-report/1';

export type MarkerKind =
  | 'injected'
  | 'detected'
  | 'traffic-moved'
  | 'restored'
  | 'recovered'
  | 'replacement'
  | 'target-down'
  | 'target-up'
  | 'region-unhealthy'
  | 'region-healthy'
  | 'answer';

export interface Marker {
  /** ms since the epoch. */
  readonly at: number;
  /** Seconds since the load started. */
  readonly t: number;
  readonly kind: MarkerKind;
  readonly label: string;
}

/** A check only the local game day makes (counts, where the shared checks are s and %). */
export interface LocalCheck {
  readonly name: string;
  readonly measured: number;
  readonly budget: number;
  readonly verdict: Verdict;
  readonly explanation: string;
}

/** The phases of a region evacuation, as each simulated viewer saw them. */
export type RoutingPhase = 'before' | 'during' | 'after';

export interface ViewerPhaseRouting {
  /** Answered requests sent in the phase, by the region that answered (x-region). */
  readonly responses: Readonly<Record<string, number>>;
  /** The region that answered the last request sent in the phase. */
  readonly last?: string;
  /** Where the shared rule sends this viewer in this phase. */
  readonly expected: string;
}

export interface ViewerRouting {
  readonly id: string;
  readonly name: string;
  readonly continent: string;
  /** Absent for the viewer CloudFront cannot place. */
  readonly location?: { readonly latitude: number; readonly longitude: number };
  /** `after` is absent when nothing was restored. */
  readonly phases: Partial<Record<RoutingPhase, ViewerPhaseRouting>>;
}

/** Where each simulated viewer was routed (runs with a router). */
export interface RoutingReport {
  readonly rule: string;
  /** The region the fault took out. */
  readonly evacuated: string;
  readonly regions: ReadonlyArray<{
    readonly name: string;
    readonly latitude: number;
    readonly longitude: number;
    readonly bias: number;
  }>;
  readonly viewers: readonly ViewerRouting[];
}

export interface PhaseNumbers {
  readonly from: number;
  readonly to: number;
  readonly requests: number;
  readonly succeeded: number;
  readonly zeroLength: number;
  /** Share of reads the cache answered (x-cache: HIT), null without reads. */
  readonly cacheHitRatio: number | null;
  readonly latency: LatencySummary;
}

/**
 * A local zonal shift, measured from the requests: time to shift runs from its start to the last
 * request (sent before the restore) that failed or reached the shifted AZ; users saw no error after.
 */
export interface ZonalShiftNumbers {
  readonly target: string;
  readonly startedAt: number;
  readonly endedAt?: number;
  /** When users stopped seeing errors (and the AZ stopped getting requests). */
  readonly shiftedAt: number;
  readonly timeToShiftSeconds: number;
  /** Requests and failed ones: injection to shift start, shift start to shiftedAt, then to restore. */
  readonly before: { readonly requests: number; readonly errors: number };
  readonly during: { readonly requests: number; readonly errors: number };
  readonly after: { readonly requests: number; readonly errors: number };
  /** Requests the shifted AZ's targets answered after the shift started (in flight when it did). */
  readonly servedByShiftedAz: number;
}

export interface LocalReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly scenario: {
    readonly name: LocalScenarioName;
    readonly title: string;
    readonly hypothesis: string;
    readonly blastRadius: string;
  };
  readonly quick: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** ms since the epoch when the load started; `t` values count seconds from here. */
  readonly loadStartedAt: number;
  readonly loadEndedAt: number;
  readonly plan: {
    readonly timeScale: number;
    readonly balancer: BalancerSettings;
    readonly router?: RouterSettings;
    readonly faultPollSeconds: number;
    readonly baselineSeconds: number;
    readonly holdSeconds?: number;
    readonly replacementDelaySeconds: number;
    readonly tailSeconds: number;
    readonly rate: number;
    readonly maxInFlight: number;
    readonly notes: readonly string[];
  };
  readonly settings: DeployedSettings;
  readonly budget: Budget;
  readonly topology: {
    readonly regions: ReadonlyArray<{
      readonly name: string;
      readonly loadBalancer: string;
      readonly targets: ReadonlyArray<{
        readonly name: string;
        readonly taskIds: readonly string[];
      }>;
      readonly memcachedNodes: number;
    }>;
    readonly router: boolean;
    readonly database: string;
  };
  readonly fault: {
    readonly description: string;
    /** Targets (region/AZ) or regions the fault is aimed at. */
    readonly badTargets: readonly string[];
    readonly document?: readonly FaultEntry[];
  };
  /** bad-deploy: the new revision, the control call and the deploy gate's verdict, check by check. */
  readonly deployGate?: DeployGateRecord;
  readonly timeline: Timeline;
  readonly markers: readonly Marker[];
  readonly score: Score;
  readonly localChecks: readonly LocalCheck[];
  /** az-outage's mitigation, a local zonal shift; absent for other scenarios. */
  readonly zonalShift?: ZonalShiftNumbers;
  readonly verdict: Verdict;
  /** The summary as the terminal showed it. */
  readonly summary: string;
  readonly requests: {
    readonly total: number;
    readonly succeeded: number;
    readonly zeroLength: number;
    readonly byStatus: Readonly<Record<string, number>>;
    readonly errors: Readonly<Record<string, number>>;
    readonly latency: LatencySummary;
    readonly phases: Readonly<Record<'baseline' | 'fault' | 'after', PhaseNumbers | undefined>>;
  };
  /** Every zero-length response: when it was sent and received, and who answered. */
  readonly zeroLengthResponses: ReadonlyArray<{
    readonly sentAt: number;
    readonly at: number;
    readonly target?: string;
  }>;
  readonly writes: WriteCheck;
  /** Where each simulated viewer was routed before, during and after (region-evacuation). */
  readonly routing?: RoutingReport;
  /** Balancer state changes while the load ran. */
  readonly balancerEvents: ReadonlyArray<{
    readonly at: number;
    readonly target: string;
    readonly state: 'UP' | 'DOWN';
    readonly reason: string;
  }>;
  readonly series: { readonly bucketSeconds: number; readonly buckets: readonly Bucket[] };
  readonly environment: {
    readonly node: string;
    readonly platform: string;
    readonly cpus: number;
    readonly haproxy: string;
    readonly memcached: string;
  };
}

/** One line per local check, in renderScore's format. */
export function renderLocalChecks(checks: readonly LocalCheck[]): string {
  return checks
    .map(
      (check) =>
        `${check.verdict === 'pass' ? 'PASS' : 'FAIL'}  ${check.name}: ${check.measured} (budget ≤ ${check.budget})`,
    )
    .join('\n');
}

/** `<scenario>-<time>` with a time that sorts and is safe in file names. */
export function reportBaseName(scenario: string, startedAt: Date): string {
  return `${scenario}-${startedAt
    .toISOString()
    .replace(/[:.]/g, '-')
    .replace(/-\d{3}Z$/, 'Z')}`;
}

export async function writeReport(
  report: LocalReport,
  directory: string,
): Promise<{ json: string; html: string }> {
  await mkdir(directory, { recursive: true });
  const base = join(directory, reportBaseName(report.scenario.name, new Date(report.startedAt)));
  const json = `${base}.json`;
  const html = `${base}.html`;
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(html, renderHtml(report));
  return { json, html };
}
