import {
  CloudFormationClient,
  DescribeStacksCommand,
  DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeExecutionCommandInput,
  GetExecutionHistoryCommand,
  GetExecutionHistoryCommandInput,
  SFNClient,
  StartExecutionCommand,
  StartExecutionCommandInput,
} from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { regionalStackName } from '../../gameday/aws/locate';
import { CliDeps, runCli } from '../../gameday/aws/main';
import type { GameDayReport } from '../../lambda/gameday-shared/report';
import type { GameDayInput } from '../../lambda/gameday-shared/run';
import { stackNames } from '../../lib/blueprint';
import { GAMEDAY_OUTPUTS } from '../../lib/constructs/gameday/contract';
import { SCENARIO_NAMES } from '../../lib/gameday/scenarios';
import { resolveConfig } from '../../lib/load-config';

import { FakeStepFunctions, STATE_MACHINE_ARN } from './aws/fake-sfn';
import { REPORT_BUCKET, Variant, recordedTaskLoss } from './aws/recorded-run';

const EXPERIMENT_ID = 'gd-task-loss-20261121-100000-ab12';
const STACK = {
  StackName: 'Blueprint-eu-west-1',
  StackStatus: 'UPDATE_COMPLETE',
  CreationTime: new Date('2026-11-01T00:00:00Z'),
  Outputs: [
    { OutputKey: GAMEDAY_OUTPUTS.stateMachineArn, OutputValue: STATE_MACHINE_ARN },
    { OutputKey: GAMEDAY_OUTPUTS.reportBucket, OutputValue: REPORT_BUCKET },
  ],
} as const;

/** The four clients of one region, mocked, plus a fake SFN model the SFN mock answers from. */
function world(variant: Variant = 'pass') {
  const clients = {
    sts: new STSClient({ region: 'eu-west-1' }),
    cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
    sfn: new SFNClient({ region: 'eu-west-1' }),
    s3: new S3Client({ region: 'eu-west-1' }),
  };
  const sts = mockClient(clients.sts);
  const cloudFormation = mockClient(clients.cloudFormation);
  const sfn = mockClient(clients.sfn);
  const s3 = mockClient(clients.s3);
  const reports = new Map<string, GameDayReport>();
  const fake = new FakeStepFunctions((input) => {
    const run = recordedTaskLoss(input as GameDayInput, variant);
    reports.set(run.report.location.key, run.report);
    return run.script;
  });

  sts.on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  cloudFormation
    .on(DescribeStacksCommand, { StackName: 'Blueprint-eu-west-1' })
    .resolves({ Stacks: [STACK] } as unknown as DescribeStacksCommandOutput);
  sfn
    .on(StartExecutionCommand)
    .callsFake((input: StartExecutionCommandInput) => fake.startExecution(input));
  sfn
    .on(DescribeExecutionCommand)
    .callsFake((input: DescribeExecutionCommandInput) => fake.describeExecution(input));
  sfn
    .on(GetExecutionHistoryCommand)
    .callsFake((input: GetExecutionHistoryCommandInput) => fake.getExecutionHistory(input));
  s3.on(GetObjectCommand).callsFake((input: { Key?: string }) => {
    const report = input.Key ? reports.get(input.Key) : undefined;
    if (!report) {
      throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
    }
    const json = JSON.stringify(report);
    return {
      Body: { transformToString: () => Promise.resolve(json) },
    };
  });
  return { clients, sts, cloudFormation, sfn, s3, fake, reports };
}

/** Deps around a world: captured output, a clock that moves with each poll, no real waiting. */
function cli(w: ReturnType<typeof world>, overrides: Partial<CliDeps> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  let clock = Date.parse('2026-11-21T10:00:00.000Z');
  const regions: string[] = [];
  const deps: CliDeps = {
    clients: (region) => {
      regions.push(region);
      return w.clients;
    },
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    interactive: false,
    ask: () => Promise.resolve(undefined),
    loadConfig: () => resolveConfig({}),
    now: () => clock,
    sleep: (ms) => {
      clock += ms;
      return Promise.resolve();
    },
    experimentId: () => EXPERIMENT_ID,
    ...overrides,
  };
  return {
    run: (...argv: string[]) => runCli(argv, deps),
    out: () => stdout.join('\n'),
    err: () => stderr.join('\n'),
    regions,
  };
}

describe('gameday flags', () => {
  test('--list shows every scenario with its hypothesis, budget and runbook, without AWS', async () => {
    const c = cli(world());
    expect(await c.run('--list')).toBe(0);
    for (const name of SCENARIO_NAMES)
      expect(c.out()).toContain(`runbook       docs/gameday/${name}.md`);
    expect(c.out()).toContain(
      'budget        detect not scored (StopTask deregisters at once), recover ≤ 100 s, success ≥ 99 %',
    );
    expect(c.out()).toMatch(/budget {8}detect ≤ \d+ s, recover/); // zero-length-responder
    expect(c.regions).toEqual([]);
  });

  test('an unknown scenario is refused with the list of scenarios and exit code 2', async () => {
    const c = cli(world());
    expect(await c.run('task-los')).toBe(2);
    expect(c.err()).toContain(
      'gameday: unknown scenario "task-los"; allowed: task-loss, az-outage, zero-length-responder, region-evacuation, cache-outage, latency',
    );
  });

  test('an unknown flag is named, with the flags allowed', async () => {
    const c = cli(world());
    expect(await c.run('task-loss', '--dryrun')).toBe(2);
    expect(c.err()).toContain(
      "gameday: Unknown option '--dryrun'; allowed flags: --region, --act, --dry-run, --yes, --az, --config, --list, --help",
    );
  });

  test('--az with a scenario other than az-outage is refused', async () => {
    const c = cli(world());
    expect(await c.run('latency', '--az', 'eu-west-1a')).toBe(2);
    expect(c.err()).toContain('gameday: --az applies to az-outage only, got it with latency');
  });

  test('a region the blueprint does not run in is refused with the regions it does', async () => {
    const c = cli(world());
    expect(await c.run('task-loss', '--region', 'us-west-2', '--act', '--yes')).toBe(2);
    expect(c.err()).toContain(
      'gameday: --region us-west-2 is not a region of this blueprint; allowed: us-east-1, eu-west-1, ap-northeast-1',
    );
    expect(c.regions).toEqual([]);
  });

  test('a config with bad values is refused with every problem, before any AWS call', async () => {
    const c = cli(world(), {
      loadConfig: (path) =>
        resolveConfig({ healthCheck: { albIntervalSeconds: 1 } }, `config file ${path}`),
    });
    expect(await c.run('task-loss', '--config', 'prod.json', '--act', '--yes')).toBe(2);
    expect(c.err()).toMatch(
      /^gameday: config file prod\.json has 1 problem:\n {2}- healthCheck\.albIntervalSeconds/,
    );
    expect(c.regions).toEqual([]);
  });

  test('without a terminal, --act without --yes refuses before any AWS call', async () => {
    const w = world();
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act')).toBe(2);
    expect(c.err()).toContain(
      'gameday: stdin is not a terminal, so I cannot ask before injecting a fault; pass --act --yes to run without asking, or leave out --act for a dry run that changes nothing',
    );
    expect(c.regions).toEqual([]);
  });
});

describe('gameday against AWS it cannot use', () => {
  test('without credentials it says how to sign in, exits 1 and starts nothing', async () => {
    const w = world();
    w.sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
    );
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain('gameday: No AWS credentials found. Sign in first');
    expect(c.err()).not.toMatch(/\n\s+at /); // no stack trace
    expect(w.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('in an account without the stacks it names the stack, account and region', async () => {
    const w = world();
    w.cloudFormation.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('Stack with id Blueprint-eu-west-1 does not exist'), {
        name: 'ValidationError',
      }),
    );
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain(
      'gameday: No stack Blueprint-eu-west-1 in account 123456789012, region eu-west-1. Deploy the blueprint there first (npx cdk deploy Blueprint-eu-west-1), or name the region it runs in with --region.',
    );
  });

  test('a stack deployed without chaos is explained', async () => {
    const w = world();
    w.cloudFormation.on(DescribeStacksCommand).resolves({ Stacks: [{ ...STACK, Outputs: [] }] });
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain('it was deployed with chaos.enabled false');
  });

  test('credentials that may not start executions are told what a game day needs', async () => {
    const w = world();
    w.sfn.on(StartExecutionCommand).rejects(
      Object.assign(new Error('User: arn:aws:iam::123456789012:user/x is not authorized'), {
        name: 'AccessDeniedException',
      }),
    );
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain(
      `gameday: Your credentials may not start the game day on ${STATE_MACHINE_ARN}`,
    );
  });

  test('looks for the stack by the name the blueprint gives it', () => {
    const config = resolveConfig({ projectName: 'Shop' });
    expect(regionalStackName('Shop', 'eu-west-1')).toBe(stackNames(config).regional('eu-west-1'));
  });
});

describe('a game day run', () => {
  test('asks first, then starts the scenario with a fresh experiment id as the execution name', async () => {
    const w = world();
    const questions: string[] = [];
    const c = cli(w, {
      interactive: true,
      ask: (q) => {
        questions.push(q);
        return Promise.resolve('yes');
      },
    });
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act')).toBe(0);
    expect(questions[0]).toContain(
      'Inject task-loss into Blueprint-eu-west-1 (account 123456789012)? Blast radius: One task in one region',
    );
    expect(w.sfn).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: EXPERIMENT_ID,
    });
    expect(w.fake.only().input).toEqual({
      scenario: 'task-loss',
      experimentId: EXPERIMENT_ID,
      dryRun: false,
    });
  });

  test('does nothing when the answer is not yes', async () => {
    const w = world();
    const c = cli(w, { interactive: true, ask: () => Promise.resolve('n') });
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act')).toBe(1);
    expect(c.err()).toContain('Cancelled; nothing was started.');
    expect(w.sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  test('shows each phase with the elapsed time, and the canary success rate after every poll', async () => {
    const c = cli(world());
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(0);
    const out = c.out();
    const phases = [...out.matchAll(/^\[\s*[\d.]+ s\] (\w+)/gm)].map((m) => m[1]);
    expect([...new Set(phases)]).toEqual([
      'preflight',
      'inject',
      'observe',
      'restore',
      'verify',
      'report',
    ]);
    expect(out).toContain(
      '[   0.1 s] preflight checking the steady state: alarm, canary, lease, targets',
    );
    expect(out).toContain('[   3.0 s] inject    injected: stop 1 of 3 task(s)');
    expect(out).toContain(
      '[  15.4 s] observe   targets 2/3 healthy · canary 14/15 ok (93.3 %) · run 96.7 % of 30 · detected 12.4 s after injection',
    );
    // one read failed at the ejection: clients only reached healthy tasks from the next poll
    expect(out).toContain('· traffic moved 18.6 s after injection');
    expect(out).toContain('· recovered 74.4 s after injection · phase over: recovered');
  });

  test('prints the scored report it reads from the report bucket', async () => {
    const w = world();
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(0);
    expect(w.s3).toHaveReceivedCommandWith(GetObjectCommand, {
      Bucket: REPORT_BUCKET,
      Key: `reports/task-loss/${EXPERIMENT_ID}.json`,
    });
    expect(c.out()).toContain(`eu-west-1 · experiment ${EXPERIMENT_ID} · completed · verdict PASS`);
    expect(c.out()).toContain('PASS  time to recover: 74.4 s (budget ≤ 100 s)');
    // a stopped task is deregistered at once: the report says so instead of timing it
    expect(c.out()).not.toContain('PASS  time to detect');
    expect(c.out()).toContain(
      '  time to detect: not scored: StopTask deregisters the target at once',
    );
  });

  test('exits 1 when the run misses its budget', async () => {
    const c = cli(world('slow-recovery'));
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.out()).toContain('FAIL  time to recover: 124 s (budget ≤ 100 s)');
  });

  test('shows why a refused run did not start, and exits 1', async () => {
    const c = cli(world('refused'));
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.out()).toContain('steady state does not hold:');
    expect(c.out()).toContain(
      'refused: alarm Blueprint-eu-west-1-region-impaired is ALARM, not OK',
    );
  });

  test('dry run is the default: without --act nothing is asked and the execution input says dryRun true', async () => {
    // GIVEN a terminal that would answer yes to anything
    const w = world();
    const questions: string[] = [];
    const c = cli(w, {
      interactive: true,
      ask: (q) => {
        questions.push(q);
        return Promise.resolve('yes');
      },
    });
    // WHEN the scenario is named without --act
    expect(await c.run('task-loss', '--region', 'eu-west-1')).toBe(0);
    // THEN the state machine is told to change nothing
    expect(w.fake.only().input).toMatchObject({ dryRun: true });
    expect(questions).toEqual([]);
    expect(c.out()).toContain('— dry run, nothing changes (pass --act to inject the fault)');
  });

  test('--act and --dry-run together are refused as a contradiction', async () => {
    const c = cli(world());
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--dry-run')).toBe(2);
    expect(c.err()).toContain('gameday: --act and --dry-run contradict each other');
    expect(c.regions).toEqual([]);
  });

  test('--help names --act as the only way to inject the fault', async () => {
    const c = cli(world());
    expect(await c.run('--help')).toBe(0);
    expect(c.out()).toContain(
      '--act              inject the fault for real; without it the run is a dry run',
    );
  });

  test('a dry run needs no confirmation and says that nothing changes', async () => {
    const w = world();
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--dry-run')).toBe(0);
    expect(c.out()).toContain('— dry run, nothing changes');
    expect(c.out()).toContain('inject    dry run, would: stop 1 of 3 task(s)');
    expect(c.out()).toContain('dry run, nothing changed; would: stop 1 of 3 task(s)');
    expect(w.fake.only().input).toMatchObject({ dryRun: true });
  });

  test('an execution that ended without a report says how it ended and where to look', async () => {
    const w = world();
    w.s3
      .on(GetObjectCommand)
      .rejects(
        Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
      );
    const c = cli(w);
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain(
      `gameday: The run ended SUCCEEDED without a report at s3://${REPORT_BUCKET}/reports/task-loss/${EXPERIMENT_ID}.json`,
    );
  });

  test('Ctrl-C detaches: the execution goes on and restores by itself', async () => {
    const w = world();
    const detach = new AbortController();
    const c = cli(w, {
      signal: detach.signal,
      sleep: () => {
        detach.abort();
        return Promise.reject(new Error('aborted'));
      },
    });
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(130);
    expect(c.err()).toContain(
      'Stopped following. The execution goes on, restores and reports by itself',
    );
    expect(c.err()).toContain('"How to abort" in docs/gameday/task-loss.md');
  });

  test('stops following after the longest wait, and says the execution goes on', async () => {
    const c = cli(world(), { maxWaitMs: 5_000, pollMs: 3_000 });
    expect(await c.run('task-loss', '--region', 'eu-west-1', '--act', '--yes')).toBe(1);
    expect(c.err()).toContain('gameday: Stopped following after 0 min; the execution goes on');
  });
});
