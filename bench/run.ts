/**
 * `npm run bench`: one command that measures what users of the blueprint care about, side by
 * side with the stock-CDK alternative, in one run on one machine, and writes bench/results.json
 * and BENCHMARKS.md (drawn from the JSON by render.ts).
 *
 *   npm run bench                      # everything (about 30-45 minutes on 2 cores)
 *   npm run bench -- --quick           # fewer runs, slow parts skipped (under 3 minutes)
 *   npm run bench -- --note "shared VM"
 *   npm run bench -- --render          # re-draw BENCHMARKS.md from bench/results.json
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import * as path from 'node:path';

import { format } from 'prettier';

import { parseBenchArgs, USAGE, UsageError, type BenchArgs } from './args';
import { readCpuTimes, stealPercent, type CpuTimes } from './cpu-steal';
import { detectionBudgets, readTemplates } from './detection';
import { fullDevLoop, quickDevLoop } from './devloop';
import { gamedayAvailable, runGamedays } from './gameday';
import { LAMBDA_BENCH_DEFAULT_RUNS, runLambdaBench } from './lambda';
import { removeTempDir, stopEverythingOnSignals } from './processes';
import { renderBenchmarks } from './render';
import {
  RESULTS_SCHEMA,
  type BenchResults,
  type DetectionSection,
  type Machine,
  type Section,
  type SynthSection,
} from './results';
import { runServiceBench, SERVICE_BENCH_DEFAULTS } from './service';
import { pairedRatios } from './stats';
import {
  BASELINE,
  BLUEPRINT,
  BLUEPRINT_UNCACHED,
  growthConfig,
  growthSubjects,
  phaseSweep,
  sweep,
  SYNTH_ENVIRONMENT,
  synthRatio,
} from './synth';

const ROOT = path.resolve(__dirname, '..');
const RESULTS_FILE = path.join(ROOT, 'bench', 'results.json');
const MARKDOWN_FILE = path.join(ROOT, 'BENCHMARKS.md');
const QUICK_LIMIT_SECONDS = 180;

/** How many runs each part takes, per mode. */
const PLAN = {
  quick: {
    synthRounds: 1,
    growthRounds: 0,
    phaseRounds: 0,
    service: { runs: 2, durationSeconds: 1, missRequestsPerRun: 300 },
    lambdaRuns: 2,
    gamedayRuns: 1,
    npmCiRuns: 0,
  },
  full: {
    synthRounds: 5,
    growthRounds: 3,
    phaseRounds: 2,
    service: SERVICE_BENCH_DEFAULTS,
    lambdaRuns: LAMBDA_BENCH_DEFAULT_RUNS,
    gamedayRuns: 2,
    npmCiRuns: 2,
  },
};

const log = (line: string) => process.stdout.write(`${line}\n`);
const round = (value: number, decimals = 2) => Math.round(value * 10 ** decimals) / 10 ** decimals;

async function section<T>(name: string, work: () => Promise<T>): Promise<Section<T>> {
  const started = performance.now();
  log(`\n== ${name}`);
  try {
    const result = await work();
    log(`   (${((performance.now() - started) / 1000).toFixed(0)} s)`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`   FAILED: ${message.split('\n').slice(0, 8).join('\n   ')}`);
    return { failed: message.slice(0, 2000) };
  }
}

function machine(
  note: string | undefined,
  loadAtStart: number[],
  cpuAtStart: CpuTimes | undefined,
): Machine {
  const cpuStealPercent = stealPercent(cpuAtStart, readCpuTimes());
  const load = () => loadavg().map((value) => round(value));
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    gitCommit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim(),
    loadAverageAtStart: loadAtStart.map((value) => round(value)),
    loadAverageAtEnd: load(),
    ...(cpuStealPercent === undefined ? {} : { cpuStealPercent }),
    note,
  };
}

/** Times synth (the pair in turn, then the growth sweep) and reads the budgets from the output. */
async function synthAndDetection(
  plan: (typeof PLAN)['full'],
): Promise<{ synth: Section<SynthSection>; detection: Section<DetectionSection> }> {
  let detection: Section<DetectionSection> = { failed: 'synth did not finish' };
  const synth = await section('Synth: blueprint vs baseline, in turn', async () => {
    const pair = await sweep([BLUEPRINT, BASELINE, BLUEPRINT_UNCACHED], plan.synthRounds, log);
    try {
      const blueprint = detectionBudgets(readTemplates(pair.keptDirectories.get(BLUEPRINT.name)!));
      const baseline = detectionBudgets(readTemplates(pair.keptDirectories.get(BASELINE.name)!));
      detection = {
        blueprint,
        baseline,
        targetTotalBaselineOverBlueprint: round(
          baseline.targetTotal.median / blueprint.targetTotal.median,
        ),
        regionTotalBaselineOverBlueprint: round(
          baseline.regionTotal.median / blueprint.regionTotal.median,
        ),
        source: 'the *.template.json files of the first timed `cdk synth` of each app',
      };
    } catch (error) {
      detection = { failed: error instanceof Error ? error.message : String(error) };
    } finally {
      pair.keptDirectories.forEach(removeTempDir);
    }
    const [blueprint, baseline, blueprintUncached] = pair.series;

    let growth: SynthSection['growth'] = {
      skipped: '--quick skips the 1/3/6-region sweep; run npm run bench for it',
    };
    if (plan.growthRounds > 0) {
      log('  growth sweep: 1, 3 and 6 regions, in turn');
      const { subjects, directory } = growthSubjects();
      try {
        const sweepResult = await sweep(subjects, plan.growthRounds, log);
        sweepResult.keptDirectories.forEach(removeTempDir);
        const points = sweepResult.series.map((series, index) => {
          const regions = ([1, 3, 6] as const)[index];
          return {
            ...series,
            regions,
            regionNames: (growthConfig(regions).regions ?? []).map((r) => r.region),
          };
        });
        growth = { points, sixOverOne: pairedRatios(points[2].runs, points[0].runs, 2) };
      } catch (error) {
        growth = { failed: error instanceof Error ? error.message : String(error) };
      } finally {
        removeTempDir(directory);
      }
    }
    let phases: SynthSection['phases'] = {
      skipped:
        "--quick skips the breakdown of the blueprint's synth time; run npm run bench for it",
    };
    if (plan.phaseRounds > 0) {
      log("  where the blueprint's synth time goes: with and without bundling, in turn");
      try {
        phases = await phaseSweep(plan.phaseRounds, log);
      } catch (error) {
        phases = { failed: error instanceof Error ? error.message : String(error) };
      }
    }
    return {
      blueprint,
      baseline,
      blueprintOverBaseline: synthRatio(blueprint, baseline),
      blueprintUncached,
      uncachedOverBaseline: synthRatio(blueprintUncached, baseline),
      growth,
      phases,
      environment: SYNTH_ENVIRONMENT,
    };
  });
  return { synth, detection };
}

async function measureAll(args: BenchArgs): Promise<BenchResults> {
  const mode = args.quick ? 'quick' : 'full';
  const plan = PLAN[mode];
  const startedAt = new Date();
  const loadAtStart = loadavg();
  const cpuAtStart = readCpuTimes();
  const { synth, detection } = await synthAndDetection(plan);
  const service = await section('Service', () =>
    runServiceBench({
      ...plan.service,
      log: (line) => log(`  ${line}`),
      // A previous build of the service to measure side by side (sh service/bundle.sh <dir>).
      ...(process.env.BENCH_SERVICE_REFERENCE
        ? { referenceBundle: process.env.BENCH_SERVICE_REFERENCE }
        : {}),
    }),
  );
  const lambda = await section('Lambda', () =>
    runLambdaBench(plan.lambdaRuns, (line) => log(`  ${line}`)),
  );
  const gameday = gamedayAvailable()
    ? await section('Local game day', () => runGamedays(plan.gamedayRuns, args.quick, log))
    : { skipped: 'npm run gameday:local is not in this checkout yet' };
  const devLoop = await section('Developer loop', () =>
    args.quick ? quickDevLoop(log) : fullDevLoop(plan.npmCiRuns, log),
  );
  return {
    schema: RESULTS_SCHEMA,
    mode,
    startedAt: startedAt.toISOString(),
    totalSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: machine(args.note, loadAtStart, cpuAtStart),
    detection,
    synth,
    service,
    lambda,
    gameday,
    devLoop,
  };
}

async function writeMarkdown(results: BenchResults): Promise<void> {
  const markdown = await format(renderBenchmarks(results), {
    parser: 'markdown',
    proseWrap: 'preserve',
  });
  writeFileSync(MARKDOWN_FILE, markdown);
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`npm run bench: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    log(USAGE);
    return 0;
  }
  if (args.renderOnly) {
    let results: BenchResults;
    try {
      results = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults;
    } catch (error) {
      process.stderr.write(
        `npm run bench -- --render: cannot read bench/results.json (${(error as Error).message}); run npm run bench first\n`,
      );
      return 1;
    }
    await writeMarkdown(results);
    log('wrote BENCHMARKS.md');
    return 0;
  }

  stopEverythingOnSignals();
  // The SDK here only talks to dynalite on loopback; its Node-version notice is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const results = await measureAll(args);
  writeFileSync(RESULTS_FILE, await format(JSON.stringify(results), { parser: 'json' }));
  await writeMarkdown(results);
  log(
    `\nwrote bench/results.json and BENCHMARKS.md in ${results.totalSeconds} s (${results.mode})`,
  );
  if (args.quick && results.totalSeconds > QUICK_LIMIT_SECONDS) {
    log(`note: --quick took longer than its ${QUICK_LIMIT_SECONDS} s goal on this machine`);
  }
  const failed = Object.entries(results).filter(
    ([, value]) => typeof value === 'object' && value !== null && 'failed' in value,
  );
  if (failed.length > 0) {
    process.stderr.write(`these parts failed: ${failed.map(([name]) => name).join(', ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `npm run bench failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
