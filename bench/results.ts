/** The shape of bench/results.json, which `npm run bench` writes and BENCHMARKS.md is drawn from. */
import type { DetectionBudgets } from './detection';
import type { DevLoopResults } from './devloop';
import type { GamedayResults } from './gameday';
import type { LambdaResults } from './lambda';
import type { ServiceResults } from './service';
import type { Summary } from './stats';
import type { SynthPhases, SynthSeries } from './synth';

export const RESULTS_SCHEMA = 'blueprint-bench/1';

/** A section that did not run, and why. */
export interface Skipped {
  readonly skipped: string;
}
/** A section that broke; the rest of the benchmark still ran. */
export interface Failed {
  readonly failed: string;
}
export type Section<T> = T | Skipped | Failed;

export function isSkipped<T>(section: Section<T>): section is Skipped {
  return typeof section === 'object' && section !== null && 'skipped' in section;
}
export function isFailed<T>(section: Section<T>): section is Failed {
  return typeof section === 'object' && section !== null && 'failed' in section;
}

export interface Machine {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly gitCommit: string;
  /** 1, 5 and 15 minute load averages: above nproc, something else was competing for the CPU. */
  readonly loadAverageAtStart: readonly number[];
  readonly loadAverageAtEnd: readonly number[];
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests during the whole run (%);
   * absent where /proc/stat is not readable, and in results from before it was measured.
   */
  readonly cpuStealPercent?: number;
  /** What the person running it said about the machine (`--note`). */
  readonly note?: string;
}

export interface DetectionSection {
  readonly blueprint: DetectionBudgets;
  readonly baseline: DetectionBudgets;
  /** baseline ÷ blueprint, on the medians (deterministic: read from templates, not timed). */
  readonly targetTotalBaselineOverBlueprint: number;
  readonly regionTotalBaselineOverBlueprint: number;
  readonly source: string;
}

export interface GrowthPoint extends SynthSeries {
  readonly regions: number;
  readonly regionNames: readonly string[];
}

export interface SynthSection {
  readonly blueprint: SynthSeries;
  readonly baseline: SynthSeries;
  /** blueprint ÷ baseline, per round. */
  readonly blueprintOverBaseline: Summary;
  /** The blueprint with its CloudFormation Validate report not kept (absent in older results). */
  readonly blueprintUncached?: SynthSeries;
  /** That ÷ baseline, per round. */
  readonly uncachedOverBaseline?: Summary;
  readonly growth: Section<{
    readonly points: readonly GrowthPoint[];
    /** 6-region ÷ 1-region, per round. */
    readonly sixOverOne: Summary;
  }>;
  /** Where the blueprint's synth time goes (in-process, fresh Node per run). */
  readonly phases: Section<SynthPhases>;
  readonly environment: string;
}

export interface BenchResults {
  readonly schema: typeof RESULTS_SCHEMA;
  readonly mode: 'quick' | 'full';
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly machine: Machine;
  readonly detection: Section<DetectionSection>;
  readonly synth: Section<SynthSection>;
  readonly service: Section<ServiceResults>;
  readonly lambda: Section<LambdaResults>;
  readonly gameday: Section<GamedayResults>;
  readonly devLoop: Section<DevLoopResults>;
}
