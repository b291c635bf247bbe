/**
 * Wall time of the real `cdk synth` CLI, offline: no credentials in the environment, no instance
 * metadata, no version check, every output to its own temp directory. Subjects are timed in turn
 * (see interleavedOrder), so a busy moment on the machine lands on both sides of a comparison.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

import type { BlueprintConfig } from '../lib/config';
import { resolveConfig } from '../lib/load-config';

import { readTemplates } from './detection';
import { makeTempDir, removeTempDir, runCommand } from './processes';
import {
  interleavedOrder,
  pairedDifferences,
  pairedRatios,
  summarize,
  type Summary,
} from './stats';
import { PHASE_MODES, type PhaseMode, type Phases } from './synth-phases';

const ROOT = path.resolve(__dirname, '..');
const CDK = path.join(ROOT, 'node_modules', '.bin', 'cdk');
const SYNTH_TIMEOUT_MS = 5 * 60_000;

/** One thing to synthesize: the blueprint with some config, or the baseline app. */
export interface SynthSubject {
  readonly name: string;
  /** Extra `cdk synth` arguments (`--app ...`, `-c config=...`). */
  readonly args: readonly string[];
  /** Extra environment variables for the synth. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SynthRun {
  readonly wallSeconds: number;
  readonly stacks: number;
  readonly resources: number;
  /** Lambda code assets the synth bundled, from the app's summary line (0 when it has none). */
  readonly bundledAssets: number;
}

export interface SynthSeries {
  readonly name: string;
  readonly command: string;
  readonly stacks: number;
  readonly resources: number;
  /** Lambda code assets bundled per synth (the first run's summary line). */
  readonly bundledAssets: number;
  readonly wallSeconds: Summary;
  readonly runs: readonly number[];
}

/** How every timed synth runs, for the report. */
export const SYNTH_ENVIRONMENT =
  "run with the repository's own CLI (node_modules/.bin/cdk), a fresh output directory per run, every AWS_* variable removed, AWS_EC2_METADATA_DISABLED=true, CDK_DISABLE_VERSION_CHECK=true and CDK_DISABLE_CLI_TELEMETRY=true. The blueprint's synth includes bundling its Lambda functions, the cdk-nag checks and the CDK's CloudFormation Validate check (which the baseline runs too), as `npm run synth` does; like every synth, it reuses the Lambda bundle the previous synth built while none of its inputs changed (lib/constructs/lambda/bundle.ts), so only a round after a code change runs esbuild, and the CloudFormation Validate report of the previous synth while every template is byte-identical (lib/cloudformation-validate-cache.ts). The row with that report not kept (BLUEPRINT_VALIDATION_CACHE=off) is what a synth whose templates changed takes";

/** The environment `cdk synth` runs in: ours minus every AWS_* variable, metadata lookups off. */
export function offlineEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('AWS_')));
  return {
    ...clean,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

/**
 * Regions with real AZ names, for the growth sweep. The first three are the default config's;
 * the 1-region app runs in eu-west-1 so that the site's replica bucket (which needs a region
 * other than us-east-1) is still part of it and every size synthesizes the same features.
 */
const GROWTH_REGIONS = [
  { region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] },
  { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] },
  {
    region: 'ap-northeast-1',
    availabilityZones: ['ap-northeast-1a', 'ap-northeast-1c', 'ap-northeast-1d'],
  },
  { region: 'us-west-2', availabilityZones: ['us-west-2a', 'us-west-2b', 'us-west-2c'] },
  {
    region: 'eu-central-1',
    availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
  },
  {
    region: 'ap-southeast-2',
    availabilityZones: ['ap-southeast-2a', 'ap-southeast-2b', 'ap-southeast-2c'],
  },
];

/** The config for an app of `count` regions (1, 3 or 6), checked with resolveConfig. */
export function growthConfig(count: 1 | 3 | 6): BlueprintConfig {
  const config: BlueprintConfig =
    count === 1
      ? { homeRegion: 'eu-west-1', regions: [GROWTH_REGIONS[1]] }
      : { homeRegion: 'us-east-1', regions: GROWTH_REGIONS.slice(0, count) };
  resolveConfig(config, `the ${count}-region benchmark config`);
  return config;
}

export const BLUEPRINT: SynthSubject = { name: 'blueprint (default config, 3 regions)', args: [] };
/** The blueprint as a synth whose templates changed takes: CloudFormation Validate runs. */
export const BLUEPRINT_UNCACHED: SynthSubject = {
  name: 'blueprint, CloudFormation Validate report not kept (templates changed)',
  args: [],
  env: { BLUEPRINT_VALIDATION_CACHE: 'off' },
};
export const BASELINE: SynthSubject = {
  name: 'baseline (stock ApplicationLoadBalancedFargateService, 3 regions)',
  args: ['--app', 'npx tsx bench/baseline/app.ts'],
};

function describe(subject: SynthSubject): string {
  return [
    ...Object.entries(subject.env ?? {}).map(([key, value]) => `${key}=${value}`),
    'cdk synth --quiet -o <tmp>',
    ...subject.args.map((a) => (a.includes(' ') ? `"${a}"` : a)),
  ]
    .join(' ')
    .replace(/config=\S+/, 'config=<tmp file>');
}

/** One timed `cdk synth` into a fresh directory; returns the directory for the caller to read. */
async function synthOnce(subject: SynthSubject): Promise<SynthRun & { directory: string }> {
  const directory = makeTempDir('bench-synth-');
  try {
    const result = await runCommand(CDK, ['synth', '--quiet', '-o', directory, ...subject.args], {
      cwd: ROOT,
      env: { ...offlineEnv(), ...subject.env },
      timeoutMs: SYNTH_TIMEOUT_MS,
    });
    if (result.exitCode !== 0) {
      const why = result.timedOut ? `timed out after ${SYNTH_TIMEOUT_MS / 1000} s` : 'failed';
      throw new Error(`cdk synth of ${subject.name} ${why}:\n${result.output.slice(-4000)}`);
    }
    const templates = readTemplates(directory);
    return {
      directory,
      wallSeconds: result.wallMs / 1000,
      stacks: templates.length,
      resources: templates.reduce((n, t) => n + Object.keys(t.Resources ?? {}).length, 0),
      bundledAssets: Number(/^Bundled (\d+) Lambda code assets?\.$/m.exec(result.output)?.[1] ?? 0),
    };
  } catch (error) {
    removeTempDir(directory);
    throw error;
  }
}

export interface SynthSweep {
  readonly series: readonly SynthSeries[];
  /** The first run's output directory per subject name; the caller removes them. */
  readonly keptDirectories: ReadonlyMap<string, string>;
}

/**
 * Times each subject `rounds` times in turn. Keeps the first output of each subject (for reading
 * its templates); removes the rest as it goes.
 */
export async function sweep(
  subjects: readonly SynthSubject[],
  rounds: number,
  log: (line: string) => void,
): Promise<SynthSweep> {
  const runs = new Map<string, SynthRun[]>(subjects.map((s) => [s.name, []]));
  const kept = new Map<string, string>();
  try {
    for (const [round, order] of interleavedOrder(subjects, rounds).entries()) {
      for (const subject of order) {
        const run = await synthOnce(subject);
        runs.get(subject.name)!.push(run);
        if (kept.has(subject.name)) removeTempDir(run.directory);
        else kept.set(subject.name, run.directory);
        log(
          `  synth round ${round + 1}/${rounds}: ${subject.name} ${run.wallSeconds.toFixed(1)} s`,
        );
      }
    }
  } catch (error) {
    kept.forEach(removeTempDir);
    throw error;
  }
  return {
    keptDirectories: kept,
    series: subjects.map((subject) => {
      const series = runs.get(subject.name)!;
      return {
        name: subject.name,
        command: describe(subject),
        stacks: series[0].stacks,
        resources: series[0].resources,
        bundledAssets: series[0].bundledAssets,
        wallSeconds: summarize(
          series.map((r) => r.wallSeconds),
          's',
          2,
        ),
        runs: series.map((r) => Math.round(r.wallSeconds * 100) / 100),
      };
    }),
  };
}

/** Writes the 1-, 3- and 6-region configs to a temp dir; returns their subjects and the dir. */
export function growthSubjects(): { subjects: SynthSubject[]; directory: string } {
  const directory = makeTempDir('bench-configs-');
  const subjects = ([1, 3, 6] as const).map((count) => {
    const file = path.join(directory, `${count}-regions.json`);
    writeFileSync(file, JSON.stringify(growthConfig(count), null, 2));
    return { name: `${count} region${count === 1 ? '' : 's'}`, args: ['-c', `config=${file}`] };
  });
  return { subjects, directory };
}

/** blueprint ÷ baseline per round. */
export function synthRatio(blueprint: SynthSeries, baseline: SynthSeries): Summary {
  return pairedRatios(blueprint.runs, baseline.runs, 2);
}

export interface SynthPhases {
  /** Building the construct tree, esbuild bundling of every function included. */
  readonly constructWithBundling: Summary;
  /** The same with bundling skipped. */
  readonly constructWithoutBundling: Summary;
  /** The difference, per round: what bundling the Lambda functions costs. */
  readonly bundling: Summary;
  /** `app.synth()`: cdk-nag and CloudFormation checks, cross-region references, templates. */
  readonly synthesize: Summary;
}

/** Times the blueprint's phases in fresh processes, with and without bundling, in turn. */
export async function phaseSweep(
  rounds: number,
  log: (line: string) => void,
): Promise<SynthPhases> {
  const taken: Record<PhaseMode, Phases[]> = { bundling: [], 'no-bundling': [] };
  for (const [round, order] of interleavedOrder(PHASE_MODES, rounds).entries()) {
    for (const mode of order) {
      // Loaded as cdk.json loads the app, so the phases include what lazy requires cost there.
      const phasesArgs = ['--require', './bin/typescript-hook.js', 'bench/synth-phases.ts', mode];
      const result = await runCommand(process.execPath, phasesArgs, {
        cwd: ROOT,
        // esbuild runs every time here: this measures what bundling costs when the code changed.
        env: { ...offlineEnv(), BLUEPRINT_BUNDLE_CACHE: 'off' },
        timeoutMs: SYNTH_TIMEOUT_MS,
      });
      const line = result.output
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{"constructMs"'));
      if (result.exitCode !== 0 || line === undefined) {
        throw new Error(`synth phases (${mode}) failed:\n${result.output.slice(-3000)}`);
      }
      const phases = JSON.parse(line) as Phases;
      taken[mode].push(phases);
      log(
        `  phases round ${round + 1}/${rounds}, ${mode}: construct ${(phases.constructMs / 1000).toFixed(1)} s, synth ${(phases.synthMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const seconds = (runs: Phases[], key: keyof Phases) => runs.map((r) => r[key] / 1000);
  return {
    constructWithBundling: summarize(seconds(taken.bundling, 'constructMs'), 's', 2),
    constructWithoutBundling: summarize(seconds(taken['no-bundling'], 'constructMs'), 's', 2),
    bundling: pairedDifferences(
      seconds(taken.bundling, 'constructMs'),
      seconds(taken['no-bundling'], 'constructMs'),
      's',
      2,
    ),
    synthesize: summarize(seconds(taken.bundling, 'synthMs'), 's', 2),
  };
}
