/**
 * The game-day CLI as a function of its arguments and dependencies: parse, check, locate the
 * region's state machine, confirm, start, follow, print the stored report. Returns the exit code.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { STSClient } from '@aws-sdk/client-sts';

import {
  GameDayReport,
  REPORT_SCHEMA,
  renderReport,
  reportKey,
} from '../../lambda/gameday-shared/report';
import { type GameDayInput, scoredBudget } from '../../lambda/gameday-shared/run';
import { ConfigError, ResolvedConfig } from '../../lib/config';
import { RUNTIME_DEFAULTS } from '../../lib/constructs/gameday/contract';
import {
  SCENARIO_NAMES,
  SCENARIOS,
  ScenarioName,
  settingsFromConfig,
} from '../../lib/gameday/scenarios';

import { CliCommand, USAGE, parseCliArgs } from './args';
import { GameDayCliError, UsageError, awsErrorName, explainAwsError } from './errors';
import { DetachedError, followExecution } from './follow';
import { GameDayTarget, locateGameDay, regionalStackName } from './locate';
import { ProgressPrinter } from './progress';

export interface CliClients {
  readonly sts: STSClient;
  readonly cloudFormation: CloudFormationClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
}

export interface CliDeps {
  /** The AWS clients for one region, with the user's credentials. */
  readonly clients: (region: string) => CliClients;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
  /** Whether a person at a terminal can answer a question. */
  readonly interactive: boolean;
  /** Asks one question; undefined when the input ended. */
  readonly ask: (question: string) => Promise<string | undefined>;
  readonly loadConfig: (path?: string) => ResolvedConfig;
  readonly now: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly experimentId: (scenario: ScenarioName, now: Date) => string;
  /** Aborted when the user detaches (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** @default 3000 */
  readonly pollMs?: number;
  /** @default one hour */
  readonly maxWaitMs?: number;
}

export function consoleUrl(region: string, executionArn: string): string {
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}

function budgetLine(scenario: ScenarioName, config: ResolvedConfig): string {
  const budget = SCENARIOS[scenario].budget(
    settingsFromConfig(config.healthCheck, RUNTIME_DEFAULTS),
  );
  // What the AWS run is scored on: a stopped task's detection is not (see SCENARIO_RUNS).
  const scored = scoredBudget(scenario, budget);
  return [
    scored.detectSeconds !== undefined
      ? `detect ≤ ${scored.detectSeconds} s`
      : budget.detectSeconds !== undefined
        ? 'detect not scored (StopTask deregisters at once)'
        : 'no ejection expected',
    `recover ≤ ${budget.recoverSeconds} s`,
    `success ≥ ${budget.minSuccessRate * 100} %`,
  ].join(', ');
}

export function listScenarios(config: ResolvedConfig, configPath: string | undefined): string {
  const settings = settingsFromConfig(config.healthCheck, RUNTIME_DEFAULTS);
  const source = configPath ? `config ${configPath}` : 'the default config';
  const lines = [
    `Game-day scenarios (budgets from ${source}; each report shows the deployed ones):`,
  ];
  for (const name of SCENARIO_NAMES) {
    const s = SCENARIOS[name];
    lines.push(
      '',
      `${name.padEnd(22)} ${s.title}`,
      `  hypothesis    ${s.hypothesis}`,
      `  blast radius  ${s.blastRadius}`,
      `  budget        ${budgetLine(name, config)}`,
      `  derived       ${s.budget(settings).derivation}`,
      `  runbook       docs/gameday/${name}.md`,
    );
  }
  return lines.join('\n');
}

/** The region's AZs, checking --region and --az against the config. */
function checkPlace(
  command: Extract<CliCommand, { kind: 'run' }>,
  config: ResolvedConfig,
): { region: string; zones: readonly string[] } {
  const region = command.region ?? config.homeRegion;
  const found = config.regions.find((r) => r.region === region);
  if (!found) {
    throw new UsageError(
      `--region ${region} is not a region of this blueprint; allowed: ${config.regions.map((r) => r.region).join(', ')}`,
    );
  }
  if (command.availabilityZone && !found.availabilityZones.includes(command.availabilityZone)) {
    throw new UsageError(
      `--az ${command.availabilityZone} is not an AZ of ${region}; allowed: ${found.availabilityZones.join(', ')}`,
    );
  }
  return { region, zones: found.availabilityZones };
}

async function readReport(
  s3: S3Client,
  target: GameDayTarget,
  key: string,
): Promise<GameDayReport | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: target.reportBucket, Key: key }));
    const text = (await out.Body?.transformToString()) ?? '';
    const parsed = JSON.parse(text) as { schema?: unknown };
    if (parsed.schema !== REPORT_SCHEMA) {
      throw new GameDayCliError(
        `The report at s3://${target.reportBucket}/${key} has schema ${JSON.stringify(parsed.schema)}, ` +
          `not ${REPORT_SCHEMA}: update the CLI (git pull) or the stack (cdk deploy).`,
      );
    }
    return parsed as GameDayReport;
  } catch (error) {
    if (awsErrorName(error) === 'NoSuchKey') return undefined;
    if (error instanceof SyntaxError) {
      throw new GameDayCliError(`The report at s3://${target.reportBucket}/${key} is not JSON.`);
    }
    throw explainAwsError(
      error,
      `read the report s3://${target.reportBucket}/${key}`,
      target.region,
    );
  }
}

async function confirm(
  command: Extract<CliCommand, { kind: 'run' }>,
  target: GameDayTarget,
  deps: CliDeps,
): Promise<boolean> {
  if (command.yes || command.dryRun) return true;
  const answer = await deps.ask(
    `Inject ${command.scenario} into ${target.stackName} (account ${target.account})? ` +
      `Blast radius: ${SCENARIOS[command.scenario].blastRadius} Type yes to go on: `,
  );
  return answer !== undefined && /^(y|yes)$/i.test(answer.trim());
}

async function run(command: Extract<CliCommand, { kind: 'run' }>, deps: CliDeps): Promise<number> {
  const config = deps.loadConfig(command.configPath);
  const { region } = checkPlace(command, config);
  if (!command.dryRun && !command.yes && !deps.interactive) {
    throw new UsageError(
      'stdin is not a terminal, so I cannot ask before injecting a fault; pass --act --yes to ' +
        'run without asking, or leave out --act for a dry run that changes nothing',
    );
  }
  const clients = deps.clients(region);
  const stackName = regionalStackName(config.projectName, region);
  const target = await locateGameDay(clients, stackName, region);
  const scenario = SCENARIOS[command.scenario];

  deps.stdout(
    `Game day: ${command.scenario} (${scenario.title}) in ${region}, account ${target.account}` +
      (command.dryRun ? ' — dry run, nothing changes (pass --act to inject the fault)' : ''),
  );
  deps.stdout(`Hypothesis: ${scenario.hypothesis}`);
  deps.stdout(`Budget from your config: ${budgetLine(command.scenario, config)}`);
  deps.stdout(`Runbook: docs/gameday/${command.scenario}.md`);
  if (!(await confirm(command, target, deps))) {
    deps.stderr('Cancelled; nothing was started.');
    return 1;
  }

  const experimentId = deps.experimentId(command.scenario, new Date(deps.now()));
  const input: GameDayInput = {
    scenario: command.scenario,
    experimentId,
    dryRun: command.dryRun,
    ...(command.availabilityZone ? { availabilityZone: command.availabilityZone } : {}),
  };
  let executionArn: string;
  let startedAt: number;
  try {
    const started = await clients.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: target.stateMachineArn,
        name: experimentId,
        input: JSON.stringify(input),
      }),
    );
    executionArn = started.executionArn ?? '';
    startedAt = started.startDate?.getTime() ?? deps.now();
  } catch (error) {
    throw explainAwsError(error, `start the game day on ${target.stateMachineArn}`, region);
  }
  deps.stdout(`Experiment ${experimentId}: ${consoleUrl(region, executionArn)}`);

  const progress = new ProgressPrinter(deps.stdout, startedAt);
  let execution;
  try {
    execution = await followExecution(clients.sfn, executionArn, {
      region,
      onEvent: (event) => progress.onEvent(event),
      sleep: deps.sleep,
      now: deps.now,
      pollMs: deps.pollMs ?? 3_000,
      maxWaitMs: deps.maxWaitMs ?? 60 * 60_000,
      signal: deps.signal,
    });
  } catch (error) {
    if (!(error instanceof DetachedError)) throw error;
    deps.stderr(
      `Stopped following. The execution goes on, restores and reports by itself: ` +
        `${consoleUrl(region, executionArn)}\nTo end the fault now, see "How to abort" in docs/gameday/${command.scenario}.md.`,
    );
    return 130;
  }

  const key = reportKey(command.scenario, experimentId);
  const report = await readReport(clients.s3, target, key);
  if (!report) {
    throw new GameDayCliError(
      `The run ended ${execution.status}${execution.error ? ` (${execution.error}: ${execution.cause ?? ''})` : ''} ` +
        `without a report at s3://${target.reportBucket}/${key}; see ${consoleUrl(region, executionArn)}`,
    );
  }
  deps.stdout('');
  deps.stdout(renderReport(report));
  if (report.outcome === 'restore-failed') {
    deps.stderr(
      `The restore failed: the fault may still be in place. Clean up by hand now: docs/gameday/${command.scenario}.md`,
    );
  }
  const passed =
    report.outcome === 'dry-run' ||
    (report.outcome === 'completed' && report.score?.verdict === 'pass');
  return passed ? 0 : 1;
}

/** Runs the CLI; never throws. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  try {
    const command = parseCliArgs(argv);
    if (command.kind === 'help') {
      deps.stdout(USAGE);
      return 0;
    }
    if (command.kind === 'list') {
      deps.stdout(listScenarios(deps.loadConfig(command.configPath), command.configPath));
      return 0;
    }
    return await run(command, deps);
  } catch (error) {
    if (error instanceof UsageError) {
      deps.stderr(`gameday: ${error.message}\n\n${USAGE}`);
      return error.exitCode;
    }
    if (error instanceof GameDayCliError) {
      deps.stderr(`gameday: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof ConfigError) {
      deps.stderr(`gameday: ${error.message}`);
      return 2;
    }
    deps.stderr(
      `gameday: unexpected failure: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
    );
    return 1;
  }
}
