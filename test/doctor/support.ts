/** Recorded AWS responses, SDK mocks and a fake machine for the doctor's tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
  DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import {
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeNatGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointServicesCommand,
  DescribeVpcsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import {
  DescribeReservedCacheNodesOfferingsCommand,
  ElastiCacheClient,
} from '@aws-sdk/client-elasticache';
import {
  GetHostedZoneCommand,
  Route53Client,
  Route53ServiceException,
} from '@aws-sdk/client-route-53';
import {
  GetServiceQuotaCommand,
  GetServiceQuotaCommandOutput,
  ServiceQuotasClient,
  ServiceQuotasServiceException,
} from '@aws-sdk/client-service-quotas';
import { GetParameterCommand, SSMClient, SSMServiceException } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';

import { ResolvedConfig } from '../../lib/config';
import { CommandResult, LocalEnvironment } from '../../lib/doctor/local-environment';
import { resolveConfig } from '../../lib/load-config';

// The report's Node.js line covers what the SDK would warn about on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const ROOT = join(__dirname, '..', '..');
export const ACCOUNT = '111122223333';

/** A recorded response (AWS CLI JSON, i.e. the API's field names) from fixtures/. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', name), 'utf8')) as T;
}

type ExceptionClass =
  | typeof CloudFormationServiceException
  | typeof Route53ServiceException
  | typeof STSServiceException
  | typeof EC2ServiceException
  | typeof DynamoDBServiceException
  | typeof SSMServiceException
  | typeof ServiceQuotasServiceException;

/** A recorded error (`fixtures/*.error.json`) as the SDK throws it. */
export function recordedError(Exception: ExceptionClass, name: string): Error {
  const { Code, Message, HttpStatusCode } = fixture<{
    Code: string;
    Message: string;
    HttpStatusCode: number;
  }>(name);
  return serviceError(Exception, Code, Message, HttpStatusCode);
}

export function serviceError(
  Exception: ExceptionClass,
  code: string,
  message: string,
  httpStatusCode = 400,
): Error {
  return new Exception({
    name: code,
    message,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode, requestId: 'c0ffee00-1234-4abc-8def-0123456789ab' },
  });
}

/** What the SDK's default provider chain throws when it finds no credentials. */
export function noCredentialsError(): Error {
  return Object.assign(new Error('Could not load credentials from any providers'), {
    name: 'CredentialsProviderError',
  });
}

/** What Node's HTTP stack throws when DNS does not answer (offline). */
export function offlineError(host: string): Error {
  return Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
    code: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
    hostname: host,
  });
}

export const mocks = {
  sts: mockClient(STSClient),
  cloudFormation: mockClient(CloudFormationClient),
  ssm: mockClient(SSMClient),
  serviceQuotas: mockClient(ServiceQuotasClient),
  ec2: mockClient(EC2Client),
  dynamoDb: mockClient(DynamoDBClient),
  elastiCache: mockClient(ElastiCacheClient),
  route53: mockClient(Route53Client),
};

/** Short AZ-id prefixes, as AWS names them (`euw1-az1`). */
const AZ_ID_PREFIX: Record<string, string> = {
  'eu-west-1': 'euw1',
  'eu-central-1': 'euc1',
  'us-east-1': 'use1',
  'ap-northeast-1': 'apne1',
};

/** A fixture recorded in eu-west-1, as the same call answers in `region`. */
export function inRegion<T>(recorded: T, region: string): T {
  return JSON.parse(
    JSON.stringify(recorded)
      .replaceAll('eu-west-1', region)
      .replaceAll('euw1-', `${AZ_ID_PREFIX[region] ?? region}-`),
  ) as T;
}

/** Answers an EC2/ElastiCache call with a fixture recorded in eu-west-1, moved to the client's region. */
export function regional<T>(
  name: string,
): (input: unknown, getClient: () => { config: { region: unknown } }) => Promise<T> {
  return async (_input, getClient) => {
    const region = await (getClient().config.region as () => Promise<string>)();
    return inRegion(fixture<T>(name), region);
  };
}

export function resetMocks(): void {
  for (const mock of Object.values(mocks)) mock.reset();
}

/** Answers per region: `answers[region]` when there is one, else `otherwise`. */
export function byRegion<T>(
  answers: Record<string, () => T>,
  otherwise: () => T,
): (input: unknown, getClient: () => { config: { region: unknown } }) => Promise<T> {
  return async (_input, getClient) => {
    const region = await (getClient().config.region as () => Promise<string>)();
    return (answers[region] ?? otherwise)();
  };
}

export const QUOTA_FIXTURES: Record<string, string> = {
  'L-0263D0A3': 'service-quotas-get-service-quota-elastic-ips.json',
  'L-FE5A380F': 'service-quotas-get-service-quota-nat-gateways-per-az.json',
  'L-F678F1CE': 'service-quotas-get-service-quota-vpcs.json',
  'L-3032A538': 'service-quotas-get-service-quota-fargate-vcpus.json',
};

/** The recorded quota, with its value replaced. */
export function quotaWithValue(quotaCode: string, value: number): GetServiceQuotaCommandOutput {
  const recorded = fixture<GetServiceQuotaCommandOutput>(QUOTA_FIXTURES[quotaCode]);
  return { ...recorded, Quota: { ...recorded.Quota, Value: value } };
}

/**
 * An account with room for the fork below: bootstrapped everywhere (version 29), default quotas
 * (5 Elastic IPs with 2 taken, 5 VPCs with 2 taken, 5 NAT gateways per AZ with 1 taken, 6 Fargate
 * vCPUs), a public hosted zone for example.com, AZs that offer every endpoint and the default cache
 * node type, and no table or Data stack from an earlier deploy.
 */
export function givenAHealthyAccount(): void {
  mocks.sts.on(GetCallerIdentityCommand).resolves(fixture('sts-get-caller-identity.json'));
  mocks.cloudFormation
    .on(DescribeStacksCommand)
    .resolves(
      fixture<DescribeStacksCommandOutput>('cloudformation-describe-stacks-cdktoolkit.json'),
    );
  mocks.ssm.on(GetParameterCommand).resolves(fixture('ssm-get-parameter-bootstrap-version.json'));
  for (const [quotaCode, file] of Object.entries(QUOTA_FIXTURES)) {
    mocks.serviceQuotas
      .on(GetServiceQuotaCommand, { QuotaCode: quotaCode })
      .resolves(fixture(file));
  }
  mocks.ec2.on(DescribeAddressesCommand).resolves(fixture('ec2-describe-addresses.json'));
  mocks.ec2.on(DescribeNatGatewaysCommand).resolves(fixture('ec2-describe-nat-gateways.json'));
  mocks.ec2.on(DescribeSubnetsCommand).resolves(fixture('ec2-describe-subnets.json'));
  mocks.ec2.on(DescribeVpcsCommand).resolves(fixture('ec2-describe-vpcs.json'));
  mocks.route53.on(GetHostedZoneCommand).resolves(fixture('route53-get-hosted-zone-public.json'));
  mocks.ec2
    .on(DescribeAvailabilityZonesCommand)
    .callsFake(regional('ec2-describe-availability-zones.json'));
  mocks.ec2
    .on(DescribeVpcEndpointServicesCommand)
    .callsFake(regional('ec2-describe-vpc-endpoint-services.json'));
  mocks.elastiCache
    .on(DescribeReservedCacheNodesOfferingsCommand)
    .resolves(fixture('elasticache-describe-reserved-cache-nodes-offerings.json'));
  // A first deploy: no Data stack and no table kept from an earlier one.
  mocks.cloudFormation
    .on(DescribeStacksCommand, { StackName: 'Shop-Data' })
    .rejects(
      recordedError(
        CloudFormationServiceException,
        'cloudformation-describe-stacks-data-missing.error.json',
      ),
    );
  mocks.dynamoDb
    .on(DescribeTableCommand)
    .rejects(recordedError(DynamoDBServiceException, 'dynamodb-describe-table-missing.error.json'));
}

/**
 * A two-region fork: eu-west-1 (home) and eu-central-1, so us-east-1 holds only the Global stack;
 * with a domain and an alarm e-mail; at most 6 tasks of 0.5 vCPU (3 vCPU) per region.
 */
export function forkConfig(overrides: Record<string, unknown> = {}): ResolvedConfig {
  return resolveConfig({
    projectName: 'Shop',
    homeRegion: 'eu-west-1',
    regions: [
      { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] },
      {
        region: 'eu-central-1',
        availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
      },
    ],
    domain: { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' },
    sizing: { desiredTasks: 3, minTasks: 3, maxTasks: 6, taskCpu: 512, taskMemoryMiB: 1024 },
    alarmEmail: 'oncall@example.com',
    ...overrides,
  });
}

/** A recorded command answer for the fake machine. */
export const answer = (result: Partial<CommandResult> = {}): CommandResult => ({
  exitCode: 0,
  stdout: '',
  stderr: '',
  timedOut: false,
  ...result,
});

export interface FakeMachine {
  readonly nodeVersion?: string;
  readonly arch?: string;
  readonly platform?: string;
  readonly env?: Record<string, string>;
  /** Answers by `<program> <args...>`, e.g. `docker info`; `cdk ls` matches the CLI probe run. */
  readonly commands?: Record<string, CommandResult>;
  /** File contents by path relative to the repository root (absolute paths as given). */
  readonly files?: Record<string, string | undefined>;
  readonly onPath?: Record<string, string[]>;
}

/**
 * A machine where everything is in order: Node 22 on ARM64, docker answering, the project's CLI
 * and library installed and matching; the repository's real Dockerfile, cdk.json and bootstrap
 * template unless `files` replaces them.
 */
export function fakeMachine(machine: FakeMachine = {}): LocalEnvironment & {
  readonly ran: string[];
} {
  const ran: string[] = [];
  const files: Record<string, string | undefined> = {
    'node_modules/aws-cdk/package.json': '{"name":"aws-cdk","version":"2.1148.1"}',
    'node_modules/aws-cdk-lib/package.json': '{"name":"aws-cdk-lib","version":"2.276.0"}',
    ...machine.files,
  };
  const commands: Record<string, CommandResult> = {
    'docker info': answer({ stdout: 'Server:\n Server Version: 28.2.2' }),
    'docker buildx version': answer({ stdout: 'github.com/docker/buildx v0.24.0 d0e5e86' }),
    'cdk ls': answer({ stdout: 'DoctorProbe\n' }),
    'aws cloudfront list-distributions --max-items 1 --output json': answer({
      stdout: readFileSync(
        join(__dirname, 'fixtures', 'cloudfront-list-distributions.json'),
        'utf8',
      ),
    }),
    ...machine.commands,
  };
  const relative = (path: string) =>
    path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
  return {
    ran,
    nodeVersion: machine.nodeVersion ?? '22.11.0',
    arch: machine.arch ?? 'arm64',
    platform: machine.platform ?? 'linux',
    nodeExecutable: '/usr/local/bin/node',
    env: machine.env ?? {},
    rootDir: ROOT,
    run: (command, args) => {
      const isCdkCli = args[0]?.endsWith(join('aws-cdk', 'bin', 'cdk'));
      const key = isCdkCli ? `cdk ${args[1]}` : [command, ...args].join(' ');
      ran.push(key);
      return Promise.resolve(
        commands[key] ??
          answer({ spawnError: 'ENOENT', exitCode: null, stderr: `spawn ${command} ENOENT` }),
      );
    },
    readFile: (path) => {
      const key = relative(path);
      if (key in files) return files[key];
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return undefined;
      }
    },
    exists: (path) => files[relative(path)] !== undefined,
    findOnPath: (name) => machine.onPath?.[name] ?? [],
  };
}
