import { GetHostedZoneCommand, Route53ServiceException } from '@aws-sdk/client-route-53';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

import { createAwsClients } from '../../lib/doctor/aws-clients';
import { ProbeAssembly } from '../../lib/doctor/cdk-probe';
import { CheckResult } from '../../lib/doctor/check';
import {
  bootstrapSettings,
  cliBootstrapTemplateVersion,
  describeTarget,
  runDoctor,
} from '../../lib/doctor/doctor';
import { exitCodeFor, renderReport } from '../../lib/doctor/report';

import {
  fakeMachine,
  FakeMachine,
  forkConfig,
  givenAHealthyAccount,
  mocks,
  noCredentialsError,
  recordedError,
  resetMocks,
} from './support';

const probe = (requiredBootstrapVersion = 6): ProbeAssembly => ({
  directory: '/tmp/blueprint-doctor-probe/assembly',
  schemaVersion: '55.0.0',
  matchingCliVersion: '2.1148.2',
  requiredBootstrapVersion,
});

async function doctor(
  machine: FakeMachine = {},
  makeProbe: () => ProbeAssembly = () => probe(),
  config = forkConfig(),
): Promise<CheckResult[]> {
  const aws = createAwsClients();
  try {
    return await runDoctor({ config, local: fakeMachine(machine), aws, probe: makeProbe });
  } finally {
    aws.close();
  }
}

beforeEach(() => {
  resetMocks();
});

describe('npm run doctor', () => {
  test('passes a ready machine and account, one ok line per check, and exits 0', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const results = await doctor();
    const report = renderReport(results, describeTarget(forkConfig(), 'config file fork.json'));
    // THEN
    expect(results.map((r) => [r.id, r.status])).toEqual(
      [
        'node',
        'container',
        'arm64-build',
        'cdk-versions',
        'cdk-on-path',
        'alarm-email',
        'zonal-shift',
        'aws-credentials',
        ...['eu-west-1', 'eu-central-1'].flatMap((region) =>
          [
            'bootstrap',
            'availability-zones',
            'elastic-ips',
            'nat-gateways',
            'vpcs',
            'fargate-vcpus',
          ].map((check) => `${check}:${region}`),
        ),
        'bootstrap:us-east-1',
        'retained-table',
        'cloudfront',
        'hosted-zone',
      ].map((id) => [id, 'ok']),
    );
    expect(exitCodeFor(results)).toBe(0);
    const lines = report.split('\n');
    expect(lines[0]).toBe('npm run doctor: preflight for config file fork.json');
    expect(lines[1]).toBe(
      'project Shop: Shop-Data (eu-west-1), Shop-eu-west-1 (eu-west-1), Shop-eu-central-1 (eu-central-1), Shop-Global (us-east-1)',
    );
    expect(lines.filter((l) => /^ {2}ok {4}/.test(l))).toHaveLength(results.length);
    expect(lines[lines.length - 1]).toBe(
      `0 failed, 0 warned, ${results.length} ok, 0 skipped. Nothing found that would stop a deploy.`,
    );
  });

  test('exits 1 for a failure, with its fix on its line, and not for warnings', async () => {
    // GIVEN Node 20 (a warning) and a hosted zone that does not exist (a failure)
    givenAHealthyAccount();
    mocks.route53
      .on(GetHostedZoneCommand)
      .rejects(
        recordedError(Route53ServiceException, 'route53-get-hosted-zone-missing.error.json'),
      );
    // WHEN
    const results = await doctor({ nodeVersion: '20.20.2' });
    const report = renderReport(results);
    // THEN
    expect(exitCodeFor(results)).toBe(1);
    expect(report).toMatch(
      /^ {2}FAIL {2}hosted zone +Z0123456789ABCDEFGHIJ \(example\.com\) does not exist in this account \(NoSuchHostedZone\) -> fix: create a public hosted zone/m,
    );
    expect(report).toMatch(/^ {2}WARN {2}Node\.js +20\.20\.2 works/m);
    expect(report).toContain('1 failed, 1 warned,');
    expect(report).toContain('Fix the FAIL lines before cdk deploy.');
    // AND a warning alone does not fail the doctor
    expect(exitCodeFor(results.filter((r) => r.status !== 'fail'))).toBe(0);
  });

  test('without credentials runs the local checks, lists every skipped check with why, and exits 0', async () => {
    // GIVEN
    mocks.sts.on(GetCallerIdentityCommand).rejects(noCredentialsError());
    // WHEN
    const results = await doctor();
    const report = renderReport(results);
    // THEN
    const local = results.slice(0, 7);
    expect(local.map((r) => r.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const skipped = results.filter((r) => r.status === 'skip');
    expect(skipped).toHaveLength(17);
    expect(report).toContain(
      `Skipped 17 checks:\n  - 17 because no AWS credentials were found: ${skipped.map((r) => r.title).join(', ')}. To run them, configure credentials (aws configure, aws sso login, or AWS_PROFILE=<profile>) and run npm run doctor again.`,
    );
    expect(report).toContain(
      '0 failed, 0 warned, 7 ok, 17 skipped. No failures among the checks that ran.',
    );
    expect(exitCodeFor(results)).toBe(0);
  });

  test('holds the bootstrap stacks to the version the library’s probe requires', async () => {
    // GIVEN a library that needs bootstrap version 30; the account has 29
    givenAHealthyAccount();
    // WHEN
    const results = await doctor({}, () => probe(30));
    // THEN
    expect(results.find((r) => r.id === 'bootstrap:eu-west-1')).toMatchObject({
      status: 'fail',
      detail: 'bootstrap version 29 is older than the 30 this aws-cdk-lib needs',
    });
  });

  test('still checks bootstrap versions, against the CDK’s own minimum, when no probe can be made', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const results = await doctor({}, () => {
      throw new Error('ENOSPC: no space left on device, mkdir');
    });
    // THEN
    expect(results.find((r) => r.id === 'cdk-versions')?.status).toBe('warn');
    expect(results.find((r) => r.id === 'bootstrap:eu-west-1')?.detail).toContain(
      'needs 6 or later',
    );
  });
});

describe('what the doctor reads from the repository', () => {
  test('knows the bootstrap version the project’s CLI installs', () => {
    // WHEN
    const version = cliBootstrapTemplateVersion(fakeMachine());
    // THEN
    expect(version).toEqual(expect.any(Number));
    expect(version).toBeGreaterThanOrEqual(6);
  });

  test('honours a toolkit stack name and qualifier set in cdk.json', () => {
    // GIVEN
    const machine = fakeMachine({
      files: {
        'cdk.json': JSON.stringify({
          app: 'npx tsx bin/app.ts',
          toolkitStackName: 'ShopToolkit',
          context: { '@aws-cdk/core:bootstrapQualifier': 'shop2025' },
        }),
      },
    });
    // THEN
    expect(bootstrapSettings(machine)).toEqual({
      toolkitStackName: 'ShopToolkit',
      qualifier: 'shop2025',
    });
    expect(bootstrapSettings(fakeMachine())).toEqual({
      toolkitStackName: undefined,
      qualifier: undefined,
    });
  });
});
