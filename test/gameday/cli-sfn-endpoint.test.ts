/**
 * The CLI with the real Step Functions client, talking awsJson1_0 to a local endpoint on
 * 127.0.0.1: proves the SDK path (serialization, targets, timestamps, errors) end to end.
 * CloudFormation, STS and S3 are mocked; nothing leaves the machine.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';

import { runCli } from '../../gameday/aws/main';
import type { GameDayReport } from '../../lambda/gameday-shared/report';
import type { GameDayInput } from '../../lambda/gameday-shared/run';
import { GAMEDAY_OUTPUTS } from '../../lib/constructs/gameday/contract';
import { resolveConfig } from '../../lib/load-config';

import { FakeStepFunctions, STATE_MACHINE_ARN, startFakeSfnServer } from './aws/fake-sfn';
import { REPORT_BUCKET, recordedTaskLoss } from './aws/recorded-run';

const EXPERIMENT_ID = 'gd-task-loss-20261121-100000-cd34';

async function runAgainstLocalEndpoint(stateMachineArn: string) {
  const reports = new Map<string, GameDayReport>();
  const fake = new FakeStepFunctions((input) => {
    const run = recordedTaskLoss(input as GameDayInput);
    reports.set(run.report.location.key, run.report);
    return run.script;
  });
  const server = await startFakeSfnServer(fake);
  const sfn = new SFNClient({ region: 'eu-west-1', endpoint: server.endpoint, maxAttempts: 1 });
  const sts = new STSClient({ region: 'eu-west-1' });
  const cloudFormation = new CloudFormationClient({ region: 'eu-west-1' });
  const s3 = new S3Client({ region: 'eu-west-1' });
  mockClient(sts).on(GetCallerIdentityCommand).resolves({ Account: '123456789012' });
  mockClient(cloudFormation)
    .on(DescribeStacksCommand)
    .resolves({
      Stacks: [
        {
          StackName: 'Blueprint-eu-west-1',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date('2026-11-01T00:00:00Z'),
          Outputs: [
            { OutputKey: GAMEDAY_OUTPUTS.stateMachineArn, OutputValue: stateMachineArn },
            { OutputKey: GAMEDAY_OUTPUTS.reportBucket, OutputValue: REPORT_BUCKET },
          ],
        },
      ],
    });
  mockClient(s3)
    .on(GetObjectCommand)
    .callsFake((input: { Key?: string }) => {
      const json = JSON.stringify(reports.get(input.Key ?? ''));
      return {
        Body: { transformToString: () => Promise.resolve(json) },
      };
    });

  const stdout: string[] = [];
  const stderr: string[] = [];
  let polls = 0;
  try {
    const code = await runCli(['task-loss', '--region', 'eu-west-1', '--act', '--yes'], {
      clients: () => ({ sts, cloudFormation, sfn, s3 }),
      stdout: (line) => stdout.push(line),
      stderr: (line) => stderr.push(line),
      interactive: false,
      ask: () => Promise.resolve(undefined),
      loadConfig: () => resolveConfig({}),
      now: () => Date.parse('2026-11-21T10:00:00.000Z') + polls * 1000,
      sleep: () => {
        polls += 1;
        return Promise.resolve();
      },
      experimentId: () => EXPERIMENT_ID,
      pollMs: 10,
    });
    return { code, out: stdout.join('\n'), err: stderr.join('\n'), fake, targets: server.targets };
  } finally {
    sfn.destroy();
    await server.close();
  }
}

describe('the CLI against a local Step Functions endpoint', () => {
  test('starts, follows and reports a run through the real SFN client', async () => {
    // GIVEN a local endpoint that plays a recorded task-loss run
    // WHEN
    const { code, out, fake, targets } = await runAgainstLocalEndpoint(STATE_MACHINE_ARN);

    // THEN the SDK spoke awsJson1_0 with the three operations the CLI needs
    expect(code).toBe(0);
    expect(new Set(targets)).toEqual(
      new Set(
        ['StartExecution', 'DescribeExecution', 'GetExecutionHistory'].map(
          (op) => `AWSStepFunctions.${op} application/x-amz-json-1.0`,
        ),
      ),
    );
    expect(targets[0]).toBe('AWSStepFunctions.StartExecution application/x-amz-json-1.0');
    expect(fake.only()).toEqual({
      name: EXPERIMENT_ID,
      input: { scenario: 'task-loss', experimentId: EXPERIMENT_ID, dryRun: false },
    });
    // and the epoch-second timestamps came back as the elapsed times and the report
    expect(out).toContain('[   3.0 s] inject    injected: stop 1 of 3 task(s)');
    expect(out).toContain('detected 12.4 s after injection');
    expect(out).toContain('completed · verdict PASS');
  });

  test('turns a service error from the endpoint into a plain message', async () => {
    const { code, err } = await runAgainstLocalEndpoint(`${STATE_MACHINE_ARN}-gone`);
    expect(code).toBe(1);
    expect(err).toContain(
      `gameday: Could not start the game day on ${STATE_MACHINE_ARN}-gone: StateMachineDoesNotExist: State Machine Does Not Exist`,
    );
  });
});
