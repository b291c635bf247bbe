import {
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  Tag,
} from '@aws-sdk/client-ec2';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
} from '@aws-sdk/client-service-quotas';

import { AwsClients } from './aws-clients';
import { classifyAwsError } from './aws-errors';
import { fail, ok, warn } from './check';
import { RegionNeeds } from './needs';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

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

/**
 * Elastic IPs: one per NAT gateway, against the quota less those allocated. On a redeploy the
 * stack's own addresses (tagged by CloudFormation) count as already there.
 */
export function elasticIpCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
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

/** NAT gateways per AZ: room for one more in every AZ that gets one, the stack's own not counted. */
export function natGatewayCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
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

/** VPCs per region: room for the region's VPC; the default VPC counts against the quota too. */
export function vpcCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
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

/**
 * Fargate vCPUs: `maxTasks × taskCpu / 1024` against the quota. Falling short fails: a region
 * failover is when the surviving regions scale to their maximum.
 */
export function fargateCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
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
