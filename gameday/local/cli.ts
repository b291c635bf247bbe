/**
 * npm run gameday:local -- <scenario> [--quick] [--list] [--duration s] [--rate n] [--out dir]
 *
 * Rehearses a game-day scenario on this machine with real processes and no AWS: see args.ts for
 * the command line, runner.ts for what a run does, and report.ts for what it writes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

import { ConfigError } from '../../lib/config';
import { loadConfig } from '../../lib/load-config';

import { parseCliArgs, renderScenarioList, USAGE, UsageError } from './args';
import { findBinaries, MissingBinaryError } from './binaries';
import { Cleanup } from './cleanup';
import { planRun } from './plan';
import { Progress } from './progress';
import { writeReport } from './report';
import { runScenario } from './runner';

export const EXIT = { pass: 0, fail: 1, usage: 2, cannotRun: 3, interrupted: 130 } as const;

const REPOSITORY_ROOT = resolve(__dirname, '..', '..');

function fail(message: string, code: number): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`gameday:local: ${error.message}\nRun with --help for usage.`, EXIT.usage);
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.pass;
  }
  if (args.list) {
    process.stdout.write(`${renderScenarioList()}\n`);
    return EXIT.pass;
  }
  const scenario = args.scenario;
  if (scenario === undefined) return EXIT.usage;

  let config;
  try {
    config = loadConfig(args.configPath);
  } catch (error) {
    if (error instanceof ConfigError) fail(`gameday:local: ${error.message}`, EXIT.usage);
    throw error;
  }
  if (scenario === 'region-evacuation' && config.regions.length < 2) {
    fail(
      `gameday:local: region-evacuation needs two regions in the config's regions, got ${config.regions.length}`,
      EXIT.usage,
    );
  }
  let binaries;
  try {
    binaries = findBinaries();
  } catch (error) {
    if (error instanceof MissingBinaryError) {
      fail(`gameday:local cannot run:\n${error.message}`, EXIT.cannotRun);
    }
    throw error;
  }

  // The SDK here only talks to dynalite on loopback; its Node-version notice is noise in a report.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const plan = planRun(scenario, config, {
    quick: args.quick,
    durationSeconds: args.durationSeconds,
    rate: args.rate,
  });
  const progress = new Progress();
  const cleanup = new Cleanup();
  const directory = await mkdtemp(join(tmpdir(), 'gameday-local-'));

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress.event(`\n${signal}: stopping every process this run started...`);
    void cleanup
      .stopAll()
      .then(() => rm(directory, { recursive: true, force: true }))
      .finally(() => {
        process.stderr.write('stopped.\n');
        process.exit(signal === 'SIGINT' ? EXIT.interrupted : 128 + 15);
      });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  progress.event(
    `Local game day: ${scenario}${plan.quick ? ' (quick mode)' : ''}\n` +
      plan.notes.map((note) => `  - ${note}`).join('\n') +
      `\n  Budget: ${plan.budget.derivation}.`,
  );
  let report;
  try {
    report = await runScenario(plan, {
      cleanup,
      binaries,
      progress,
      directory,
      repositoryRoot: REPOSITORY_ROOT,
      regions: config.regions,
    });
  } catch (error) {
    if (interrupted) return new Promise<number>(() => undefined);
    progress.clear();
    await cleanup.stopAll();
    fail(
      `gameday:local could not run ${scenario}: ${error instanceof Error ? error.message : String(error)}\n` +
        `Process logs are kept in ${directory}.`,
      EXIT.cannotRun,
    );
  }
  await cleanup.stopAll();
  const files = await writeReport(report, resolve(args.outDir));
  process.stdout.write(
    `\n${report.summary}\n\nReport: ${relative(process.cwd(), files.json)}\n        ${relative(process.cwd(), files.html)}\n`,
  );
  if (report.verdict === 'pass') {
    await rm(directory, { recursive: true, force: true });
  } else {
    process.stdout.write(`Process logs are kept in ${directory}.\n`);
  }
  return report.verdict === 'pass' ? EXIT.pass : EXIT.fail;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) =>
    fail(
      `gameday:local failed: ${error instanceof Error ? error.message : String(error)}`,
      EXIT.cannotRun,
    ),
);
