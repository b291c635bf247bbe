import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  Tag,
} from '@aws-sdk/client-ec2';
import { GetHostedZoneCommand } from '@aws-sdk/client-route-53';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

import { ResolvedConfig } from '../config';

import { AwsClients } from './aws-clients';
import { classifyAwsError, errorCode, errorMessage } from './aws-errors';
import { CheckResult, fail, ok, skip, warn } from './check';
import { RegionNeeds, regionNeeds } from './needs';

/** Service Quotas codes of what the blueprint consumes. */
export const QUOTAS = {
  elasticIps: { serviceCode: 'ec2', quotaCode: 'L-0263D0A3', name: 'EC2-VPC Elastic IPs' },
  natGatewaysPerAz: {
    serviceCode: 'vpc',
    quotaCode: 'L-FE5A380F',
    name: 'NAT gateways per Availability Zone',
  },
  vpcsPerRegion: { serviceCode: 'vpc', quotaCode: 'L-F678F1CE', name: 'VPCs per Region' },
  fargateVcpus: {
    serviceCode: 'fargate',
    quotaCode: 'L-3032A538',
    name: 'Fargate On-Demand vCPU resource count',
  },
} as const;

type Quota = (typeof QUOTAS)[keyof typeof QUOTAS];

export interface AwsCheckOptions {
  readonly clients: AwsClients;
  readonly config: ResolvedConfig;
  /** The lowest bootstrap version this aws-cdk-lib can deploy with (see `synthesizeProbe`). */
  readonly requiredBootstrapVersion: number;
  /** The bootstrap template version the project's CLI installs, for an upgrade hint. */
  readonly latestBootstrapVersion?: number;
  /** @default 'CDKToolkit' */
  readonly toolkitStackName?: string;
  /** @default 'hnb659fds' */
  readonly qualifier?: string;
}

/** A check that has not run yet, so that it can be listed as skipped. */
interface PlannedCheck {
  readonly id: string;
  readonly title: string;
  /** The IAM actions it calls, named when access is denied. */
  readonly actions: string;
  /** How to check by hand when the doctor cannot. */
  readonly byHand: string;
  readonly run: () => Promise<CheckResult>;
}

const STACK_NAME_TAG = 'aws:cloudformation:stack-name';
const MAX_PAGES = 10;
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function ownedBy(tags: readonly Tag[] | undefined, stackName: string | undefined): boolean {
  return (
    stackName !== undefined &&
    (tags ?? []).some((t) => t.Key === STACK_NAME_TAG && t.Value === stackName)
  );
}

/** The applied quota, or AWS's default where none was ever applied to the account. */
async function quotaValue(clients: AwsClients, region: string, quota: Quota): Promise<number> {
  const client = clients.serviceQuotas(region);
  const input = { ServiceCode: quota.serviceCode, QuotaCode: quota.quotaCode };
  let value: number | undefined;
  try {
    value = (await client.send(new GetServiceQuotaCommand(input))).Quota?.Value;
  } catch (error) {
    if (classifyAwsError(error) !== 'not-found') throw error;
    value = (await client.send(new GetAWSDefaultServiceQuotaCommand(input))).Quota?.Value;
  }
  if (value === undefined) {
    throw new Error(`Service Quotas returned no value for ${quota.quotaCode}`);
  }
  return value;
}

const increaseCommand = (region: string, quota: Quota, desired: number) =>
  `aws service-quotas request-service-quota-increase --region ${region} --service-code ${quota.serviceCode} --quota-code ${quota.quotaCode} --desired-value ${desired}`;

function bootstrapCheck(
  options: AwsCheckOptions,
  account: string,
  need: RegionNeeds,
): PlannedCheck {
  const { region } = need;
  const toolkit = options.toolkitStackName ?? 'CDKToolkit';
  const qualifier = options.qualifier ?? 'hnb659fds';
  const required = options.requiredBootstrapVersion;
  const bootstrap = `npx cdk bootstrap aws://${account}/${region}`;
  const id = `bootstrap:${region}`;
  const title = `${region} CDK bootstrap`;
  return {
    id,
    title,
    actions: 'cloudformation:DescribeStacks, ssm:GetParameter',
    byHand: `aws cloudformation describe-stacks --region ${region} --stack-name ${toolkit}`,
    run: async () => {
      let stack;
      try {
        [stack] =
          (
            await options.clients
              .cloudFormation(region)
              .send(new DescribeStacksCommand({ StackName: toolkit }))
          ).Stacks ?? [];
      } catch (error) {
        if (classifyAwsError(error) !== 'not-found') throw error;
      }
      const stacks = need.stackNames.join(', ');
      if (stack === undefined) {
        return fail(
          id,
          title,
          `${region} is not bootstrapped (no ${toolkit} stack); ${stacks} cannot deploy there`,
          bootstrap,
        );
      }
      const status = stack.StackStatus ?? 'UNKNOWN';
      if (status.endsWith('_IN_PROGRESS')) {
        return warn(
          id,
          title,
          `${toolkit} is ${status}`,
          `wait for it to finish, then run npm run doctor again`,
        );
      }
      if (!status.endsWith('_COMPLETE') || /^(ROLLBACK|DELETE)_COMPLETE$/.test(status)) {
        return fail(
          id,
          title,
          `${toolkit} is ${status}, so it cannot publish assets`,
          `delete the ${toolkit} stack in ${region} (its staging bucket and repository first if they hold nothing you need), then ${bootstrap}`,
        );
      }
      let version = Number(
        stack.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue,
      );
      if (!Number.isFinite(version)) {
        try {
          const parameter = await options.clients
            .ssm(region)
            .send(new GetParameterCommand({ Name: `/cdk-bootstrap/${qualifier}/version` }));
          version = Number(parameter.Parameter?.Value);
        } catch (error) {
          if (classifyAwsError(error) !== 'not-found') throw error;
        }
      }
      if (!Number.isFinite(version)) {
        return fail(
          id,
          title,
          `${toolkit} has no BootstrapVersion output and /cdk-bootstrap/${qualifier}/version does not exist (another qualifier?)`,
          bootstrap,
        );
      }
      if (version < required) {
        return fail(
          id,
          title,
          `bootstrap version ${version} is older than the ${required} this aws-cdk-lib needs`,
          `${bootstrap} (upgrades it in place)`,
        );
      }
      const latest = options.latestBootstrapVersion;
      const hint =
        latest !== undefined && version < latest
          ? `; the project's CLI would install ${latest} (optional: ${bootstrap})`
          : '';
      return ok(id, title, `${toolkit} version ${version} (needs ${required} or later)${hint}`);
    },
  };
}

function elasticIpCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
  const { region } = need;
  const id = `elastic-ips:${region}`;
  const title = `${region} Elastic IPs`;
  const quota = QUOTAS.elasticIps;
  return {
    id,
    title,
    actions: 'servicequotas:GetServiceQuota, ec2:DescribeAddresses',
    byHand: `Service Quotas console, ${quota.quotaCode}, and aws ec2 describe-addresses --region ${region}`,
    run: async () => {
      const [limit, addresses] = await Promise.all([
        quotaValue(options.clients, region, quota),
        options.clients.ec2(region).send(new DescribeAddressesCommand({})),
      ]);
      const all = addresses.Addresses ?? [];
      const ours = all.filter((a) => ownedBy(a.Tags, need.serviceStackName)).length;
      const needed = Math.max(0, need.natGateways - ours);
      const unattached = all.filter((a) => a.AssociationId === undefined).length;
      const inUse = `${all.length} of ${limit} allocated${unattached > 0 ? ` (${unattached} not attached to anything)` : ''}`;
      const natLayout = `${plural(need.natGateways, 'NAT gateway')} (network.natGateways "${options.config.network.natGateways}")`;
      if (all.length + needed > limit) {
        const desired = all.length + needed;
        const single =
          options.config.network.natGateways === 'one-per-az'
            ? ', or set network.natGateways to "single" (one NAT, one AZ as a single point of failure)'
            : '';
        return fail(
          id,
          title,
          `${natLayout} need ${needed} new Elastic IP${needed === 1 ? '' : 's'}, but ${inUse} (quota ${quota.quotaCode})`,
          `release unused ones (aws ec2 describe-addresses --region ${region} --query "Addresses[?AssociationId==null]"), or ${increaseCommand(region, quota, desired)}${single}`,
        );
      }
      const already = ours > 0 ? `, ${ours} already the stack's` : '';
      return ok(id, title, `${natLayout} fit: ${inUse}${already}`);
    },
  };
}

async function listNatGateways(clients: AwsClients, region: string) {
  const gateways = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const out = await clients.ec2(region).send(
      new DescribeNatGatewaysCommand({
        Filter: [{ Name: 'state', Values: ['pending', 'available'] }],
        MaxResults: 1000,
        NextToken: token,
      }),
    );
    gateways.push(...(out.NatGateways ?? []));
    token = out.NextToken;
    if (token === undefined) break;
  }
  return gateways;
}

function natGatewayCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
  const { region } = need;
  const id = `nat-gateways:${region}`;
  const title = `${region} NAT gateways per AZ`;
  const quota = QUOTAS.natGatewaysPerAz;
  return {
    id,
    title,
    actions: 'servicequotas:GetServiceQuota, ec2:DescribeNatGateways, ec2:DescribeSubnets',
    byHand: `aws ec2 describe-nat-gateways --region ${region}`,
    run: async () => {
      const [limit, gateways] = await Promise.all([
        quotaValue(options.clients, region, quota),
        listNatGateways(options.clients, region),
      ]);
      const others = gateways.filter((g) => !ownedBy(g.Tags, need.serviceStackName));
      const subnetIds = [...new Set(others.map((g) => g.SubnetId).filter((s) => s !== undefined))];
      const azOf = new Map<string, string>();
      if (subnetIds.length > 0) {
        const subnets = await options.clients
          .ec2(region)
          .send(new DescribeSubnetsCommand({ SubnetIds: subnetIds }));
        for (const s of subnets.Subnets ?? []) {
          if (s.SubnetId && s.AvailabilityZone) azOf.set(s.SubnetId, s.AvailabilityZone);
        }
      }
      const countIn = (az: string) =>
        others.filter((g) => azOf.get(g.SubnetId ?? '') === az).length;
      const full = need.natGatewayAzs.filter((az) => countIn(az) + 1 > limit);
      if (full.length > 0) {
        const counts = full.map((az) => `${az} has ${countIn(az)}`).join(', ');
        return fail(
          id,
          title,
          `no room for the blueprint's NAT gateway: ${counts} of ${limit} allowed (quota ${quota.quotaCode})`,
          `delete unused NAT gateways there, or ${increaseCommand(region, quota, limit + 1)}`,
        );
      }
      const busiest = Math.max(0, ...need.natGatewayAzs.map(countIn));
      return ok(
        id,
        title,
        `room in ${need.natGatewayAzs.join(', ')}: at most ${busiest} of ${limit} in use per AZ`,
      );
    },
  };
}

async function listVpcs(clients: AwsClients, region: string) {
  const vpcs = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const out = await clients.ec2(region).send(new DescribeVpcsCommand({ NextToken: token }));
    vpcs.push(...(out.Vpcs ?? []));
    token = out.NextToken;
    if (token === undefined) break;
  }
  return vpcs;
}

function vpcCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
  const { region } = need;
  const id = `vpcs:${region}`;
  const title = `${region} VPCs`;
  const quota = QUOTAS.vpcsPerRegion;
  return {
    id,
    title,
    actions: 'servicequotas:GetServiceQuota, ec2:DescribeVpcs',
    byHand: `aws ec2 describe-vpcs --region ${region}`,
    run: async () => {
      const [limit, vpcs] = await Promise.all([
        quotaValue(options.clients, region, quota),
        listVpcs(options.clients, region),
      ]);
      const ours = vpcs.filter((v) => ownedBy(v.Tags, need.serviceStackName)).length;
      const needed = Math.max(0, need.vpcs - ours);
      const defaults = vpcs.some((v) => v.IsDefault) ? ', the default VPC included' : '';
      if (vpcs.length + needed > limit) {
        return fail(
          id,
          title,
          `the blueprint needs ${needed} more VPC, but ${vpcs.length} of ${limit} exist${defaults} (quota ${quota.quotaCode})`,
          `delete an unused VPC, or ${increaseCommand(region, quota, vpcs.length + needed)}`,
        );
      }
      return ok(id, title, `${vpcs.length} of ${limit} exist${defaults}; ${needed} more needed`);
    },
  };
}

function fargateCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
  const { region } = need;
  const id = `fargate-vcpus:${region}`;
  const title = `${region} Fargate vCPUs`;
  const quota = QUOTAS.fargateVcpus;
  const { maxTasks, taskCpu } = options.config.sizing;
  return {
    id,
    title,
    actions: 'servicequotas:GetServiceQuota',
    byHand: `Service Quotas console, ${quota.quotaCode} in ${region}`,
    run: async () => {
      const limit = await quotaValue(options.clients, region, quota);
      const needed = need.fargateVcpus;
      const sum = `sizing.maxTasks ${maxTasks} × ${taskCpu / 1024} vCPU = ${needed} vCPU at full scale`;
      if (limit < needed) {
        const fits = Math.floor(limit / (taskCpu / 1024));
        return fail(
          id,
          title,
          `${sum}, but the quota is ${limit} vCPU (${quota.quotaCode}): autoscaling stops at ${fits} tasks, which is what a region failover needs most`,
          `${increaseCommand(region, quota, Math.ceil(needed * 2))}, or lower sizing.maxTasks to ${fits}`,
        );
      }
      if (limit < needed * 2) {
        return warn(
          id,
          title,
          `${sum} fits the quota of ${limit} vCPU, but a deployment at full scale starts up to twice as many tasks (maxHealthyPercent 200)`,
          increaseCommand(region, quota, Math.ceil(needed * 2)),
        );
      }
      return ok(
        id,
        title,
        `${sum} fits the quota of ${limit} vCPU (shared with any other Fargate tasks in ${region})`,
      );
    },
  };
}

function hostedZoneCheck(options: AwsCheckOptions): PlannedCheck | undefined {
  const domain = options.config.domain;
  if (domain === undefined) return undefined;
  const id = 'hosted-zone';
  const title = 'hosted zone';
  const zone = `${domain.hostedZoneId} (${domain.zoneName})`;
  const create = `create a public hosted zone for ${domain.zoneName} (aws route53 create-hosted-zone --name ${domain.zoneName} --caller-reference "$(date +%s)"), delegate it from your registrar, and put its id in domain.hostedZoneId`;
  return {
    id,
    title,
    actions: 'route53:GetHostedZone',
    byHand: `aws route53 get-hosted-zone --id ${domain.hostedZoneId}`,
    run: async () => {
      let found;
      try {
        found = await options.clients
          .route53()
          .send(new GetHostedZoneCommand({ Id: domain.hostedZoneId }));
      } catch (error) {
        const code = errorCode(error);
        if (code === 'NoSuchHostedZone' || code === 'InvalidInput') {
          return fail(id, title, `${zone} does not exist in this account (${code})`, create);
        }
        throw error;
      }
      const name = (found.HostedZone?.Name ?? '').replace(/\.$/, '');
      if (name !== domain.zoneName) {
        return fail(
          id,
          title,
          `${domain.hostedZoneId} is the zone of ${name}, not of domain.zoneName ${domain.zoneName}`,
          `set domain.zoneName to "${name}", or domain.hostedZoneId to the id of ${domain.zoneName}'s zone`,
        );
      }
      if (found.HostedZone?.Config?.PrivateZone === true) {
        return fail(
          id,
          title,
          `${zone} is a private zone: certificates cannot be validated in it and the internet cannot resolve its records`,
          create,
        );
      }
      const servers = found.DelegationSet?.NameServers ?? [];
      const delegation = servers.length > 0 ? `; its name servers are ${servers.join(', ')}` : '';
      return ok(id, title, `${zone} exists and is public${delegation}`);
    },
  };
}

/** Runs a check; a failed call becomes a skip, a warning or a failure, never an exception. */
async function guarded(check: PlannedCheck, region: string | undefined): Promise<CheckResult> {
  try {
    return await check.run();
  } catch (error) {
    const code = errorCode(error);
    const message = errorMessage(error);
    switch (classifyAwsError(error)) {
      case 'no-credentials':
        return skip(
          check.id,
          check.title,
          'no AWS credentials were found',
          `not checked: ${message}`,
        );
      case 'offline':
        return skip(
          check.id,
          check.title,
          'AWS did not answer (offline?)',
          `not checked: AWS did not answer (${code})`,
        );
      case 'rejected':
        return fail(
          check.id,
          check.title,
          `AWS refused the credentials${region ? ` in ${region}` : ''} (${code}: ${message})`,
          region
            ? `if ${region} is an opt-in region, enable it (AWS console, Account, AWS Regions); otherwise refresh your credentials`
            : 'refresh your credentials (aws sso login, or new access keys)',
        );
      case 'access-denied':
        return warn(
          check.id,
          check.title,
          `could not check: ${code} (${message})`,
          `allow ${check.actions} for these credentials, or check by hand: ${check.byHand}`,
        );
      default:
        return warn(
          check.id,
          check.title,
          `could not check: ${code} (${message})`,
          `run npm run doctor again; if it persists, check by hand: ${check.byHand}`,
        );
    }
  }
}

/** Who the credentials are, or why the AWS checks cannot run. */
async function identify(
  options: AwsCheckOptions,
): Promise<{ result: CheckResult; account?: string; stopReason?: string }> {
  const id = 'aws-credentials';
  const title = 'AWS credentials';
  const region = options.config.homeRegion;
  try {
    const who = await options.clients.sts(region).send(new GetCallerIdentityCommand({}));
    const account = who.Account ?? 'unknown';
    const configured = options.config.account;
    if (configured !== undefined && configured !== account) {
      return {
        account,
        result: fail(
          id,
          title,
          `the config deploys to account ${configured}, but these credentials are for ${account} (${who.Arn ?? 'unknown principal'})`,
          `use credentials for ${configured} (e.g. AWS_PROFILE), or change account in the config`,
        ),
        stopReason: `the credentials are for account ${account}, not ${configured}`,
      };
    }
    return { account, result: ok(id, title, `account ${account} as ${who.Arn ?? 'unknown'}`) };
  } catch (error) {
    const kind = classifyAwsError(error);
    const code = errorCode(error);
    const message = errorMessage(error);
    if (kind === 'no-credentials') {
      const reason = 'no AWS credentials were found';
      const detail = `not checked: ${reason} (${message})`;
      return { result: skip(id, title, reason, detail), stopReason: reason };
    }
    if (kind === 'offline') {
      const reason = 'AWS did not answer (offline?)';
      const detail = `not checked: ${reason}: ${code} ${message}`;
      return { result: skip(id, title, reason, detail), stopReason: reason };
    }
    return {
      result: fail(
        id,
        title,
        `AWS refused the credentials (${code}: ${message})`,
        'refresh your credentials (aws sso login, aws configure, or new access keys), then run npm run doctor again',
      ),
      stopReason: `AWS refused the credentials (${code})`,
    };
  }
}

/** The checks that need AWS, in the order the report lists them. */
function plan(
  options: AwsCheckOptions,
  account: string,
): { check: PlannedCheck; region?: string }[] {
  const planned: { check: PlannedCheck; region?: string }[] = [];
  for (const need of regionNeeds(options.config)) {
    planned.push({ check: bootstrapCheck(options, account, need), region: need.region });
    if (!need.runsService) continue;
    for (const make of [elasticIpCheck, natGatewayCheck, vpcCheck, fargateCheck]) {
      planned.push({ check: make(options, need), region: need.region });
    }
  }
  const zone = hostedZoneCheck(options);
  if (zone) planned.push({ check: zone });
  return planned;
}

/**
 * Every check that needs AWS, with the user's credentials: first who they are, then, in parallel,
 * for every region the stacks use, the bootstrap stack and the quotas the config consumes, and
 * the hosted zone. Without credentials, or offline, every check is listed as skipped, with why.
 */
export async function runAwsChecks(options: AwsCheckOptions): Promise<CheckResult[]> {
  const identity = await identify(options);
  const planned = plan(options, identity.account ?? '<account>');
  if (identity.stopReason !== undefined) {
    const reason = identity.stopReason;
    return [identity.result, ...planned.map(({ check }) => skip(check.id, check.title, reason))];
  }
  const results = await Promise.all(planned.map(({ check, region }) => guarded(check, region)));
  return [identity.result, ...results];
}
