import { GetHostedZoneCommand } from '@aws-sdk/client-route-53';

import { errorCode } from './aws-errors';
import { fail, ok } from './check';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

/** The configured hosted zone: it exists in this account, is public, and has the configured name. */
export function hostedZoneCheck(options: AwsCheckOptions): PlannedCheck | undefined {
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
