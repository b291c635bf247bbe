import {
  CloudFormationServiceException,
  DescribeStacksCommand,
  DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeAddressesCommand,
  DescribeAddressesCommandOutput,
  DescribeNatGatewaysCommand,
  DescribeVpcsCommand,
  DescribeVpcsCommandOutput,
} from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand, Route53ServiceException } from '@aws-sdk/client-route-53';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasServiceException,
} from '@aws-sdk/client-service-quotas';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSServiceException } from '@aws-sdk/client-sts';
import 'aws-sdk-client-mock-jest';

import { runAwsChecks } from '../../lib/doctor/aws-checks';
import { createAwsClients } from '../../lib/doctor/aws-clients';
import { CheckResult } from '../../lib/doctor/check';

import {
  ACCOUNT,
  byRegion,
  fixture,
  forkConfig,
  givenAHealthyAccount,
  mocks,
  noCredentialsError,
  offlineError,
  quotaWithValue,
  recordedError,
  resetMocks,
  serviceError,
} from './support';

const REQUIRED_BOOTSTRAP_VERSION = 6;

async function check(config = forkConfig()): Promise<Map<string, CheckResult>> {
  const clients = createAwsClients();
  try {
    const results = await runAwsChecks({
      clients,
      config,
      requiredBootstrapVersion: REQUIRED_BOOTSTRAP_VERSION,
      latestBootstrapVersion: 33,
    });
    return new Map(results.map((r) => [r.id, r]));
  } finally {
    clients.close();
  }
}

const statuses = (results: Map<string, CheckResult>) =>
  Object.fromEntries([...results].map(([id, r]) => [id, r.status]));

const recordedToolkit = () =>
  fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks-cdktoolkit.json');

/** The recorded toolkit stack with its BootstrapVersion output set to `version`, or removed. */
function toolkitAtVersion(version: string | undefined): DescribeStacksCommandOutput {
  const recorded = recordedToolkit();
  const [stack] = recorded.Stacks ?? [];
  const outputs = (stack.Outputs ?? []).filter((o) => o.OutputKey !== 'BootstrapVersion');
  return {
    ...recorded,
    Stacks: [
      {
        ...stack,
        Outputs:
          version === undefined
            ? outputs
            : [...outputs, { OutputKey: 'BootstrapVersion', OutputValue: version }],
      },
    ],
  };
}

beforeEach(() => {
  resetMocks();
});

describe('the AWS checks against recorded responses', () => {
  test('pass for an account with room for the fork, in every region its stacks use', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const results = await check();
    // THEN every check ran and passed; us-east-1 holds only the Global stack, so it needs no quotas
    expect(statuses(results)).toEqual({
      'aws-credentials': 'ok',
      'bootstrap:eu-west-1': 'ok',
      'availability-zones:eu-west-1': 'ok',
      'elastic-ips:eu-west-1': 'ok',
      'nat-gateways:eu-west-1': 'ok',
      'vpcs:eu-west-1': 'ok',
      'fargate-vcpus:eu-west-1': 'ok',
      'bootstrap:eu-central-1': 'ok',
      'availability-zones:eu-central-1': 'ok',
      'elastic-ips:eu-central-1': 'ok',
      'nat-gateways:eu-central-1': 'ok',
      'vpcs:eu-central-1': 'ok',
      'fargate-vcpus:eu-central-1': 'ok',
      'bootstrap:us-east-1': 'ok',
      'retained-table': 'ok',
      'hosted-zone': 'ok',
    });
    expect(results.get('aws-credentials')?.detail).toContain(`account ${ACCOUNT}`);
    expect(results.get('bootstrap:eu-west-1')?.detail).toBe(
      `CDKToolkit version 29 (needs ${REQUIRED_BOOTSTRAP_VERSION} or later); the project's CLI would install 33 (optional: npx cdk bootstrap aws://${ACCOUNT}/eu-west-1)`,
    );
    expect(results.get('elastic-ips:eu-west-1')?.detail).toBe(
      '3 NAT gateways (network.natGateways "one-per-az") fit: 2 of 5 allocated (1 not attached to anything)',
    );
    expect(results.get('fargate-vcpus:eu-west-1')?.detail).toContain(
      'sizing.maxTasks 6 × 0.5 vCPU = 3 vCPU at full scale fits the quota of 6 vCPU',
    );
    expect(mocks.cloudFormation).toHaveReceivedCommandWith(DescribeStacksCommand, {
      StackName: 'CDKToolkit',
    });
    expect(mocks.serviceQuotas).toHaveReceivedCommandWith(GetServiceQuotaCommand, {
      ServiceCode: 'fargate',
      QuotaCode: 'L-3032A538',
    });
    expect(mocks.route53).toHaveReceivedCommandWith(GetHostedZoneCommand, {
      Id: 'Z0123456789ABCDEFGHIJ',
    });
  });

  test('fail a region that was never bootstrapped, with the command that bootstraps it', async () => {
    // GIVEN eu-central-1 has no CDKToolkit stack
    givenAHealthyAccount();
    mocks.cloudFormation.on(DescribeStacksCommand).callsFake(
      byRegion(
        {
          'eu-central-1': () => {
            throw recordedError(
              CloudFormationServiceException,
              'cloudformation-describe-stacks-missing.error.json',
            );
          },
        },
        recordedToolkit,
      ),
    );
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('bootstrap:eu-central-1')).toMatchObject({
      status: 'fail',
      detail:
        'eu-central-1 is not bootstrapped (no CDKToolkit stack); Shop-eu-central-1 cannot deploy there',
      fix: `npx cdk bootstrap aws://${ACCOUNT}/eu-central-1`,
    });
    expect(results.get('bootstrap:eu-west-1')?.status).toBe('ok');
    expect(results.get('bootstrap:us-east-1')?.status).toBe('ok');
  });

  test('fail a bootstrap older than the library needs, and say that bootstrapping upgrades it', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.cloudFormation.on(DescribeStacksCommand).resolves(toolkitAtVersion('5'));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('bootstrap:us-east-1')).toMatchObject({
      status: 'fail',
      detail: `bootstrap version 5 is older than the ${REQUIRED_BOOTSTRAP_VERSION} this aws-cdk-lib needs`,
      fix: `npx cdk bootstrap aws://${ACCOUNT}/us-east-1 (upgrades it in place)`,
    });
  });

  test('read the bootstrap version from its SSM parameter when the stack has no output', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.cloudFormation.on(DescribeStacksCommand).resolves(toolkitAtVersion(undefined));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('bootstrap:eu-west-1')?.status).toBe('ok');
    expect(results.get('bootstrap:eu-west-1')?.detail).toContain('CDKToolkit version 29');
    expect(mocks.ssm).toHaveReceivedCommandWith(GetParameterCommand, {
      Name: '/cdk-bootstrap/hnb659fds/version',
    });
  });

  test('fail a region whose NAT gateways need more Elastic IPs than the quota leaves', async () => {
    // GIVEN the recorded 2 addresses plus one more: 3 of 5 taken, 3 needed
    givenAHealthyAccount();
    const recorded = fixture<DescribeAddressesCommandOutput>('ec2-describe-addresses.json');
    mocks.ec2.on(DescribeAddressesCommand).resolves({
      Addresses: [
        ...(recorded.Addresses ?? []),
        { AllocationId: 'eipalloc-0c1d2e3f4a5b6c7d8', Domain: 'vpc', PublicIp: '54.77.10.3' },
      ],
    });
    // WHEN
    const results = await check();
    // THEN
    const line = results.get('elastic-ips:eu-west-1');
    expect(line?.status).toBe('fail');
    expect(line?.detail).toBe(
      '3 NAT gateways (network.natGateways "one-per-az") need 3 new Elastic IPs, but 3 of 5 allocated (2 not attached to anything) (quota L-0263D0A3)',
    );
    expect(line?.fix).toContain(
      'aws service-quotas request-service-quota-increase --region eu-west-1 --service-code ec2 --quota-code L-0263D0A3 --desired-value 6',
    );
    expect(line?.fix).toContain('set network.natGateways to "single"');
  });

  test('count the stack’s own Elastic IPs as already there when it is redeployed', async () => {
    // GIVEN the 3 NAT addresses the stack made, tagged by CloudFormation, and the 2 recorded ones
    givenAHealthyAccount();
    const recorded = fixture<DescribeAddressesCommandOutput>('ec2-describe-addresses.json');
    const ours = [1, 2, 3].map((n) => ({
      AllocationId: `eipalloc-00000000000000${n}`,
      Domain: 'vpc' as const,
      AssociationId: `eipassoc-00000000000000${n}`,
      Tags: [{ Key: 'aws:cloudformation:stack-name', Value: 'Shop-eu-west-1' }],
    }));
    mocks.ec2
      .on(DescribeAddressesCommand)
      .resolves({ Addresses: [...(recorded.Addresses ?? []), ...ours] });
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('elastic-ips:eu-west-1')).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining(
        "5 of 5 allocated (1 not attached to anything), 3 already the stack's",
      ) as string,
    });
  });

  test('fail an AZ that already holds as many NAT gateways as the quota allows', async () => {
    // GIVEN one NAT gateway per AZ allowed, and the recorded one in eu-west-1a
    givenAHealthyAccount();
    mocks.serviceQuotas
      .on(GetServiceQuotaCommand, { QuotaCode: 'L-FE5A380F' })
      .resolves(quotaWithValue('L-FE5A380F', 1));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('nat-gateways:eu-west-1')).toMatchObject({
      status: 'fail',
      detail:
        "no room for the blueprint's NAT gateway: eu-west-1a has 1 of 1 allowed (quota L-FE5A380F)",
    });
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeNatGatewaysCommand, {
      Filter: [{ Name: 'state', Values: ['pending', 'available'] }],
    });
  });

  test('fail a region with no room for another VPC', async () => {
    // GIVEN 2 VPCs allowed, and the recorded default VPC and one more
    givenAHealthyAccount();
    mocks.serviceQuotas
      .on(GetServiceQuotaCommand, { QuotaCode: 'L-F678F1CE' })
      .resolves(quotaWithValue('L-F678F1CE', 2));
    mocks.ec2
      .on(DescribeVpcsCommand)
      .resolves(fixture<DescribeVpcsCommandOutput>('ec2-describe-vpcs.json'));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('vpcs:eu-central-1')).toMatchObject({
      status: 'fail',
      detail:
        'the blueprint needs 1 more VPC, but 2 of 2 exist, the default VPC included (quota L-F678F1CE)',
    });
  });

  test('fail when max tasks × task CPU is over the Fargate vCPU quota', async () => {
    // GIVEN the recorded quota of 6 vCPUs, and 24 tasks of 0.5 vCPU
    givenAHealthyAccount();
    const config = forkConfig({
      sizing: { desiredTasks: 3, minTasks: 3, maxTasks: 24, taskCpu: 512, taskMemoryMiB: 1024 },
    });
    // WHEN
    const results = await check(config);
    // THEN
    const line = results.get('fargate-vcpus:eu-west-1');
    expect(line).toMatchObject({
      status: 'fail',
      detail:
        'sizing.maxTasks 24 × 0.5 vCPU = 12 vCPU at full scale, but the quota is 6 vCPU (L-3032A538): autoscaling stops at 12 tasks, which is what a region failover needs most',
    });
    expect(line?.fix).toContain(
      '--service-code fargate --quota-code L-3032A538 --desired-value 24',
    );
    expect(line?.fix).toContain('or lower sizing.maxTasks to 12');
  });

  test('warn when full scale fits the Fargate quota but a deployment at full scale would not', async () => {
    // GIVEN the recorded quota of 6 vCPUs, and 12 tasks of 0.5 vCPU
    givenAHealthyAccount();
    const config = forkConfig({
      sizing: { desiredTasks: 3, minTasks: 3, maxTasks: 12, taskCpu: 512, taskMemoryMiB: 1024 },
    });
    // WHEN
    const results = await check(config);
    // THEN
    expect(results.get('fargate-vcpus:eu-central-1')?.status).toBe('warn');
    expect(results.get('fargate-vcpus:eu-central-1')?.detail).toContain('maxHealthyPercent 200');
  });

  test('fall back to the AWS default when no quota was ever applied to the account', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.serviceQuotas
      .on(GetServiceQuotaCommand, { QuotaCode: 'L-3032A538' })
      .rejects(
        serviceError(
          ServiceQuotasServiceException,
          'NoSuchResourceException',
          'The request failed because the specified resource does not exist.',
        ),
      );
    mocks.serviceQuotas
      .on(GetAWSDefaultServiceQuotaCommand, { QuotaCode: 'L-3032A538' })
      .resolves(quotaWithValue('L-3032A538', 400));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('fargate-vcpus:eu-west-1')?.detail).toContain('fits the quota of 400 vCPU');
  });

  test('fail when the configured hosted zone does not exist', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.route53
      .on(GetHostedZoneCommand)
      .rejects(
        recordedError(Route53ServiceException, 'route53-get-hosted-zone-missing.error.json'),
      );
    // WHEN
    const results = await check();
    // THEN
    const line = results.get('hosted-zone');
    expect(line).toMatchObject({
      status: 'fail',
      detail:
        'Z0123456789ABCDEFGHIJ (example.com) does not exist in this account (NoSuchHostedZone)',
    });
    expect(line?.fix).toContain('create a public hosted zone for example.com');
  });

  test('fail when the configured hosted zone is private', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.route53
      .on(GetHostedZoneCommand)
      .resolves(fixture('route53-get-hosted-zone-private.json'));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('hosted-zone')).toMatchObject({
      status: 'fail',
      detail:
        'Z0123456789ABCDEFGHIJ (example.com) is a private zone: certificates cannot be validated in it and the internet cannot resolve its records',
    });
  });

  test('fail when the zone id belongs to another name than domain.zoneName', async () => {
    // GIVEN
    givenAHealthyAccount();
    const config = forkConfig({
      domain: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.org' },
    });
    // WHEN
    const results = await check(config);
    // THEN
    expect(results.get('hosted-zone')).toMatchObject({
      status: 'fail',
      fix: 'set domain.zoneName to "example.com", or domain.hostedZoneId to the id of example.org\'s zone',
    });
  });

  test('check no hosted zone when no domain is configured', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const results = await check(forkConfig({ domain: undefined }));
    // THEN
    expect(results.has('hosted-zone')).toBe(false);
    expect(mocks.route53).not.toHaveReceivedCommand(GetHostedZoneCommand);
  });

  test('warn, naming the permission, when the credentials may not read quotas', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.serviceQuotas
      .on(GetServiceQuotaCommand, { QuotaCode: 'L-3032A538' })
      .rejects(
        serviceError(
          ServiceQuotasServiceException,
          'AccessDeniedException',
          'User is not authorized to perform: servicequotas:GetServiceQuota',
        ),
      );
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('fargate-vcpus:eu-west-1')).toMatchObject({
      status: 'warn',
      fix: 'allow servicequotas:GetServiceQuota for these credentials, or check by hand: Service Quotas console, L-3032A538 in eu-west-1',
    });
  });
});

describe('the AWS checks without usable credentials', () => {
  test('skip every AWS check, saying why, when no credentials are found', async () => {
    // GIVEN
    mocks.sts.on(GetCallerIdentityCommand).rejects(noCredentialsError());
    // WHEN
    const results = await check();
    // THEN
    expect(new Set(Object.values(statuses(results)))).toEqual(new Set(['skip']));
    expect(results.size).toBe(16);
    expect(results.get('aws-credentials')?.detail).toBe(
      'not checked: no AWS credentials were found (Could not load credentials from any providers)',
    );
    expect(results.get('bootstrap:eu-central-1')?.skipReason).toBe('no AWS credentials were found');
    for (const mock of [mocks.cloudFormation, mocks.ec2, mocks.serviceQuotas, mocks.route53]) {
      expect(mock.calls()).toHaveLength(0);
    }
  });

  test('skip every AWS check when AWS cannot be reached', async () => {
    // GIVEN
    mocks.sts.on(GetCallerIdentityCommand).rejects(offlineError('sts.eu-west-1.amazonaws.com'));
    // WHEN
    const results = await check();
    // THEN
    expect(new Set(Object.values(statuses(results)))).toEqual(new Set(['skip']));
    expect(results.get('aws-credentials')?.detail).toBe(
      'not checked: AWS did not answer (offline?): ENOTFOUND getaddrinfo ENOTFOUND sts.eu-west-1.amazonaws.com',
    );
    expect(mocks.ec2.calls()).toHaveLength(0);
  });

  test('fail once, and skip the rest, when AWS refuses expired credentials', async () => {
    // GIVEN
    mocks.sts
      .on(GetCallerIdentityCommand)
      .rejects(recordedError(STSServiceException, 'sts-expired-token.error.json'));
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('aws-credentials')).toMatchObject({
      status: 'fail',
      detail:
        'AWS refused the credentials (ExpiredToken: The security token included in the request is expired)',
    });
    const others = [...results.values()].filter((r) => r.id !== 'aws-credentials');
    expect(others.map((r) => r.status)).toEqual(others.map(() => 'skip'));
  });

  test('fail when the credentials are for another account than the config names', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const results = await check(forkConfig({ account: '444455556666' }));
    // THEN
    expect(results.get('aws-credentials')).toMatchObject({
      status: 'fail',
      fix: 'use credentials for 444455556666 (e.g. AWS_PROFILE), or change account in the config',
    });
    expect(results.get('bootstrap:eu-west-1')?.status).toBe('skip');
  });

  test('fail a region that refuses the credentials, as an opt-in region that is not enabled does', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.cloudFormation.on(DescribeStacksCommand).callsFake(
      byRegion(
        {
          'eu-central-1': () => {
            throw serviceError(
              CloudFormationServiceException,
              'InvalidClientTokenId',
              'The security token included in the request is invalid.',
              403,
            );
          },
        },
        recordedToolkit,
      ),
    );
    // WHEN
    const results = await check();
    // THEN
    expect(results.get('bootstrap:eu-central-1')).toMatchObject({
      status: 'fail',
      fix: 'if eu-central-1 is an opt-in region, enable it (AWS console, Account, AWS Regions); otherwise refresh your credentials',
    });
  });
});
