import {
  DescribeAvailabilityZonesCommand,
  DescribeVpcEndpointServicesCommand,
} from '@aws-sdk/client-ec2';
import { DescribeReservedCacheNodesOfferingsCommand } from '@aws-sdk/client-elasticache';

import { errorCode, errorMessage } from './aws-errors';
import { fail, ok, warn } from './check';
import { RegionNeeds } from './needs';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

/** The interface endpoints every region's VPC gets (see `Network`), by their service name suffix. */
export const INTERFACE_ENDPOINT_SERVICES = {
  'ecr.api': 'ECR API',
  'ecr.dkr': 'ECR Docker',
  logs: 'CloudWatch Logs',
  ssm: 'SSM',
} as const;

/**
 * The configured AZ names, in this account: AZ names map to different physical zones (AZ ids) in
 * each account, and not every zone offers everything. For each name: that it exists here, is an
 * ordinary AZ that is available, and its AZ id; that each interface endpoint the VPC creates is
 * offered in it; and that the region offers the cache node type for memcached.
 *
 * What it cannot see: AWS has no per-AZ list of ElastiCache node types, so the node type is checked
 * for the region (through its reserved-node offerings, which AWS lists for every type it sells
 * there); a zone that lacks the type still fails at deploy, with the AZ named.
 */
export function availabilityZoneCheck(options: AwsCheckOptions, need: RegionNeeds): PlannedCheck {
  const { region } = need;
  const id = `availability-zones:${region}`;
  const title = `${region} availability zones`;
  const nodeType = options.config.sizing.cacheNodeType;
  const configured = [...need.availabilityZones];
  const field = `regions[${options.config.regions.findIndex((r) => r.region === region)}].availabilityZones`;
  return {
    id,
    title,
    actions:
      'ec2:DescribeAvailabilityZones, ec2:DescribeVpcEndpointServices, elasticache:DescribeReservedCacheNodesOfferings',
    byHand: `aws ec2 describe-availability-zones --region ${region} --query "AvailabilityZones[].[ZoneName,ZoneId,State]"`,
    run: async () => {
      const ec2 = options.clients.ec2(region);
      const [zones, services, offerings] = await Promise.all([
        ec2.send(new DescribeAvailabilityZonesCommand({ AllAvailabilityZones: false })),
        ec2.send(
          new DescribeVpcEndpointServicesCommand({
            ServiceNames: Object.keys(INTERFACE_ENDPOINT_SERVICES).map(
              (s) => `com.amazonaws.${region}.${s}`,
            ),
          }),
        ),
        options.clients
          .elastiCache(region)
          .send(
            new DescribeReservedCacheNodesOfferingsCommand({
              CacheNodeType: nodeType,
              ProductDescription: 'memcached',
              MaxRecords: 20,
            }),
          )
          .catch((error: unknown) => {
            if (errorCode(error) === 'InvalidParameterValue') return { error: errorMessage(error) };
            throw error;
          }),
      ]);
      const problems: string[] = [];
      const byName = new Map(
        (zones.AvailabilityZones ?? []).map((z) => [z.ZoneName ?? '', z] as const),
      );
      const usable = [...byName.values()]
        .filter((z) => z.ZoneType === 'availability-zone' && z.State === 'available')
        .map((z) => `${z.ZoneName} (${z.ZoneId})`);
      for (const name of configured) {
        const zone = byName.get(name);
        if (zone === undefined) {
          problems.push(`${name} is not an availability zone of ${region} in this account`);
        } else if (zone.ZoneType !== 'availability-zone') {
          problems.push(
            `${name} is a ${zone.ZoneType ?? 'special'} zone, not an availability zone`,
          );
        } else if (zone.State !== 'available') {
          problems.push(`${name} (${zone.ZoneId}) is ${zone.State ?? 'not available'}`);
        }
      }
      for (const [suffix, label] of Object.entries(INTERFACE_ENDPOINT_SERVICES)) {
        const service = (services.ServiceDetails ?? []).find(
          (s) => s.ServiceName === `com.amazonaws.${region}.${suffix}`,
        );
        const offeredIn = new Set(service?.AvailabilityZones ?? []);
        const missing = configured.filter((name) => byName.has(name) && !offeredIn.has(name));
        if (missing.length > 0) {
          const ids = missing.map((n) => `${n} (${byName.get(n)?.ZoneId ?? '?'})`).join(', ');
          problems.push(
            `the ${label} endpoint (com.amazonaws.${region}.${suffix}) is not offered in ${ids}`,
          );
        }
      }
      const mapping = configured
        .filter((n) => byName.has(n))
        .map((n) => `${n} = ${byName.get(n)?.ZoneId ?? '?'}`)
        .join(', ');
      if (problems.length > 0) {
        return fail(
          id,
          title,
          `${problems.join('; ')}${mapping ? ` (${mapping})` : ''}`,
          `set ${field} to AZs that offer everything; usable here: ${usable.join(', ') || 'none found'}`,
        );
      }
      const offered = 'error' in offerings ? [] : (offerings.ReservedCacheNodesOfferings ?? []);
      if (offered.length === 0) {
        return warn(
          id,
          title,
          `${mapping}; every interface endpoint is offered in each, but AWS lists no memcached offering of ${nodeType} in ${region}${'error' in offerings ? ` (${offerings.error})` : ''}`,
          `set sizing.cacheNodeType to a type ${region} offers (aws elasticache describe-reserved-cache-nodes-offerings --product-description memcached --region ${region} --query "ReservedCacheNodesOfferings[].CacheNodeType")`,
        );
      }
      return ok(
        id,
        title,
        `${mapping}; every interface endpoint is offered in each; ${nodeType} is offered for memcached in ${region}`,
      );
    },
  };
}
