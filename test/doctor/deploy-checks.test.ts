import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  CloudFormationServiceException,
  DescribeStacksCommand,
  DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DescribeTableCommandOutput } from '@aws-sdk/client-dynamodb';
import {
  DescribeAvailabilityZonesCommand,
  DescribeAvailabilityZonesCommandOutput,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcEndpointServicesCommandOutput,
} from '@aws-sdk/client-ec2';
import { DescribeReservedCacheNodesOfferingsCommand } from '@aws-sdk/client-elasticache';
import 'aws-sdk-client-mock-jest';

import { runAwsChecks } from '../../lib/doctor/aws-checks';
import { createAwsClients } from '../../lib/doctor/aws-clients';
import { CheckResult } from '../../lib/doctor/check';
import { runDoctor } from '../../lib/doctor/doctor';
import { CommandResult } from '../../lib/doctor/local-environment';

import {
  answer as cliAnswer,
  fakeMachine,
  fixture,
  forkConfig,
  givenAHealthyAccount,
  inRegion,
  mocks,
  recordedError,
  resetMocks,
  ROOT,
} from './support';

async function check(
  config = forkConfig(),
  configPath?: string,
): Promise<Map<string, CheckResult>> {
  const clients = createAwsClients();
  try {
    const results = await runAwsChecks({
      clients,
      config,
      requiredBootstrapVersion: 6,
      configPath,
    });
    return new Map(results.map((r) => [r.id, r]));
  } finally {
    clients.close();
  }
}

beforeEach(() => {
  resetMocks();
});

describe('the retained-table check (redeploy after cdk destroy --all)', () => {
  test('passes a first deploy: no table and no Data stack', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const result = (await check()).get('retained-table');
    // THEN
    expect(result?.status).toBe('ok');
    expect(result?.detail).toBe(
      'no table and no stack Shop-Data yet: the first deploy creates both',
    );
    expect(mocks.dynamoDb).toHaveReceivedCommandWith(DescribeTableCommand, {
      TableName: 'Shop-catalog',
    });
  });

  test('fails a table kept by cdk destroy, with the exact command that adopts it and its data', async () => {
    // GIVEN the Data stack is gone and the table (with its eu-central-1 replica) is still there
    givenAHealthyAccount();
    mocks.dynamoDb
      .on(DescribeTableCommand)
      .resolves(fixture<DescribeTableCommandOutput>('dynamodb-describe-table-retained.json'));
    // WHEN
    const result = (await check(forkConfig(), 'fork.json')).get('retained-table');
    // THEN
    expect(result?.status).toBe('fail');
    expect(result?.title).toBe('eu-west-1 table Shop-catalog');
    expect(result?.detail).toBe(
      'Shop-catalog exists (ACTIVE, 312 items) but no stack Shop-Data manages it: kept by an earlier cdk destroy. Deploying Shop-Data as usual would fail because the name is taken',
    );
    expect(result?.fix).toContain(
      'adopt it, data and all: npx cdk deploy Shop-Data --exclusively --import-existing-resources -c config=fork.json; then npx cdk deploy --all -c config=fork.json.',
    );
  });

  test('names replicas that differ from the configured regions', async () => {
    // GIVEN a kept table replicated to eu-central-1 while the config now serves us-west-2 too
    givenAHealthyAccount();
    mocks.dynamoDb
      .on(DescribeTableCommand)
      .resolves(fixture<DescribeTableCommandOutput>('dynamodb-describe-table-retained.json'));
    const config = forkConfig({
      regions: [
        { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] },
        { region: 'us-west-2', availabilityZones: ['us-west-2a', 'us-west-2b', 'us-west-2c'] },
      ],
    });
    // WHEN
    const result = (await check(config)).get('retained-table');
    // THEN
    expect(result?.detail).toContain(
      'it has replicas in eu-west-1, eu-central-1 and the config serves eu-west-1, us-west-2',
    );
    expect(result?.fix).toContain(
      'npx cdk deploy Shop-Data --exclusively --import-existing-resources;',
    );
  });

  test('passes when the Data stack manages the table (an update)', async () => {
    // GIVEN
    givenAHealthyAccount();
    const recorded = fixture<DescribeStacksCommandOutput>(
      'cloudformation-describe-stacks-cdktoolkit.json',
    );
    const [toolkit] = recorded.Stacks ?? [];
    mocks.cloudFormation.on(DescribeStacksCommand, { StackName: 'Shop-Data' }).resolves({
      ...recorded,
      Stacks: [{ ...toolkit, StackName: 'Shop-Data', StackStatus: 'UPDATE_COMPLETE' }],
    });
    mocks.dynamoDb
      .on(DescribeTableCommand)
      .resolves(fixture<DescribeTableCommandOutput>('dynamodb-describe-table-retained.json'));
    // WHEN
    const result = (await check()).get('retained-table');
    // THEN
    expect(result?.status).toBe('ok');
    expect(result?.detail).toBe('managed by the stack Shop-Data (UPDATE_COMPLETE)');
  });

  test('the printed flags exist in the project’s CDK CLI', () => {
    // WHEN the CLI's own help for deploy is read (offline)
    const help = spawnSync(join(ROOT, 'node_modules', '.bin', 'cdk'), ['deploy', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    // THEN
    const text = `${help.stdout}${help.stderr}`;
    expect(text).toContain('--import-existing-resources');
    expect(text).toContain('--exclusively');
  });

  test('does not mistake a missing Data stack error for a kept table', async () => {
    // GIVEN DescribeStacks says the stack does not exist, as CloudFormation does
    givenAHealthyAccount();
    mocks.cloudFormation
      .on(DescribeStacksCommand, { StackName: 'Shop-Data' })
      .rejects(
        recordedError(
          CloudFormationServiceException,
          'cloudformation-describe-stacks-data-missing.error.json',
        ),
      );
    // WHEN
    const result = (await check()).get('retained-table');
    // THEN the table decides
    expect(result?.status).toBe('ok');
  });
});

describe('the availability-zone check', () => {
  test('passes AZs that exist here and offer every endpoint and the node type, naming their AZ ids', async () => {
    // GIVEN
    givenAHealthyAccount();
    // WHEN
    const result = (await check()).get('availability-zones:eu-west-1');
    // THEN
    expect(result?.status).toBe('ok');
    expect(result?.detail).toBe(
      'eu-west-1a = euw1-az3, eu-west-1b = euw1-az1, eu-west-1c = euw1-az2; every interface endpoint is offered in each; cache.t4g.micro is offered for memcached in eu-west-1',
    );
    expect(mocks.ec2).toHaveReceivedCommandWith(DescribeVpcEndpointServicesCommand, {
      ServiceNames: [
        'com.amazonaws.eu-west-1.ecr.api',
        'com.amazonaws.eu-west-1.ecr.dkr',
        'com.amazonaws.eu-west-1.logs',
        'com.amazonaws.eu-west-1.ssm',
      ],
    });
    expect(mocks.elastiCache).toHaveReceivedCommandWith(
      DescribeReservedCacheNodesOfferingsCommand,
      { CacheNodeType: 'cache.t4g.micro', ProductDescription: 'memcached' },
    );
  });

  test('fails an AZ name this account does not have, listing the usable ones with their ids', async () => {
    // GIVEN this account's eu-west-1 has no "c" zone
    givenAHealthyAccount();
    const zones = fixture<DescribeAvailabilityZonesCommandOutput>(
      'ec2-describe-availability-zones.json',
    );
    mocks.ec2.on(DescribeAvailabilityZonesCommand).resolves({
      ...zones,
      AvailabilityZones: zones.AvailabilityZones?.filter((z) => z.ZoneName !== 'eu-west-1c'),
    });
    // WHEN
    const result = (await check()).get('availability-zones:eu-west-1');
    // THEN
    expect(result?.status).toBe('fail');
    expect(result?.detail).toContain(
      'eu-west-1c is not an availability zone of eu-west-1 in this account',
    );
    expect(result?.fix).toBe(
      'set regions[0].availabilityZones to AZs that offer everything; usable here: eu-west-1a (euw1-az3), eu-west-1b (euw1-az1)',
    );
  });

  test('fails an AZ whose zone lacks an interface endpoint the VPC creates, naming the AZ id', async () => {
    // GIVEN the SSM endpoint is not offered in eu-west-1b (euw1-az1) of this account
    givenAHealthyAccount();
    const services = fixture<DescribeVpcEndpointServicesCommandOutput>(
      'ec2-describe-vpc-endpoint-services.json',
    );
    mocks.ec2.on(DescribeVpcEndpointServicesCommand).resolves({
      ...services,
      ServiceDetails: services.ServiceDetails?.map((s) =>
        s.ServiceName === 'com.amazonaws.eu-west-1.ssm'
          ? { ...s, AvailabilityZones: ['eu-west-1a', 'eu-west-1c'] }
          : s,
      ),
    });
    // WHEN
    const results = await check();
    // THEN
    const result = results.get('availability-zones:eu-west-1');
    expect(result?.status).toBe('fail');
    expect(result?.detail).toContain(
      'the SSM endpoint (com.amazonaws.eu-west-1.ssm) is not offered in eu-west-1b (euw1-az1)',
    );
  });

  test('warns when the region lists no memcached offering of the configured node type', async () => {
    // GIVEN
    givenAHealthyAccount();
    mocks.elastiCache
      .on(DescribeReservedCacheNodesOfferingsCommand)
      .resolves({ ReservedCacheNodesOfferings: [] });
    // WHEN
    const result = (await check()).get('availability-zones:eu-central-1');
    // THEN
    expect(result?.status).toBe('warn');
    expect(result?.detail).toContain(
      'AWS lists no memcached offering of cache.t4g.micro in eu-central-1',
    );
    expect(result?.fix).toContain('set sizing.cacheNodeType to a type eu-central-1 offers');
  });

  test('reads each region in its own terms (the recorded eu-west-1 answer moved to eu-central-1)', () => {
    const moved = inRegion(
      fixture<DescribeAvailabilityZonesCommandOutput>('ec2-describe-availability-zones.json'),
      'eu-central-1',
    );
    expect(moved.AvailabilityZones?.map((z) => [z.ZoneName, z.ZoneId])).toEqual([
      ['eu-central-1a', 'euc1-az3'],
      ['eu-central-1b', 'euc1-az1'],
      ['eu-central-1c', 'euc1-az2'],
    ]);
  });
});

describe('the CloudFront check (new accounts may not create distributions)', () => {
  async function doctorWith(answer: CommandResult | undefined) {
    givenAHealthyAccount();
    const machine = fakeMachine({
      commands: answer
        ? { 'aws cloudfront list-distributions --max-items 1 --output json': answer }
        : {},
    });
    const clients = createAwsClients();
    try {
      const results = await runDoctor({
        config: forkConfig(),
        local: answer ? machine : { ...machine, run: missingAwsCli(machine) },
        aws: clients,
        probe: () => {
          throw new Error('no probe in this test');
        },
        configPath: 'fork.json',
      });
      return results.find((r) => r.id === 'cloudfront');
    } finally {
      clients.close();
    }
  }

  /** The fake machine, where `aws` is not on PATH. */
  function missingAwsCli(machine: ReturnType<typeof fakeMachine>) {
    return (command: string, args: readonly string[], options: { timeoutMs: number }) =>
      command === 'aws'
        ? Promise.resolve(
            cliAnswer({ spawnError: 'ENOENT', exitCode: null, stderr: 'spawn aws ENOENT' }),
          )
        : machine.run(command, args, options);
  }

  test('passes an account that already has a distribution: CloudFront let it create one', async () => {
    const result = await doctorWith(
      cliAnswer({
        stdout: readFileSync(
          join(__dirname, 'fixtures', 'cloudfront-list-distributions.json'),
          'utf8',
        ),
      }),
    );
    expect(result?.status).toBe('ok');
    expect(result?.detail).toContain('already has a distribution (E2QWRUHEXAMPLE)');
  });

  test('warns, before any stack deploys, that an account with none may be unverified', async () => {
    const result = await doctorWith(
      cliAnswer({
        stdout: readFileSync(
          join(__dirname, 'fixtures', 'cloudfront-list-distributions-empty.json'),
          'utf8',
        ),
      }),
    );
    expect(result?.status).toBe('warn');
    expect(result?.detail).toContain(
      'Your account must be verified before you can add new CloudFront resources',
    );
    expect(result?.detail).toContain(
      'Shop-Global, which holds it, deploys after every regional stack',
    );
    expect(result?.fix).toContain('npx cdk deploy Shop-Global -c config=fork.json');
  });

  test('warns, naming the permission, when the credentials may not list distributions', async () => {
    const result = await doctorWith(
      cliAnswer({
        exitCode: 254,
        stderr:
          '\nAn error occurred (AccessDenied) when calling the ListDistributions operation: User is not authorized to perform: cloudfront:ListDistributions\n',
      }),
    );
    expect(result?.status).toBe('warn');
    expect(result?.fix).toContain('allow cloudfront:ListDistributions');
  });

  test('is skipped, saying why, when the AWS CLI is not installed', async () => {
    const result = await doctorWith(undefined);
    expect(result?.status).toBe('skip');
    expect(result?.skipReason).toBe('the AWS CLI is not installed');
  });
});
