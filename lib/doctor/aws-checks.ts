import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';

import { availabilityZoneCheck } from './availability-zone-check';
import { classifyAwsError, errorCode, errorMessage } from './aws-errors';
import { bootstrapCheck } from './bootstrap-check';
import { CheckResult, fail, ok, skip, warn } from './check';
import { cloudFrontCheck } from './cloudfront-check';
import { hostedZoneCheck } from './hosted-zone-check';
import { regionNeeds } from './needs';
import { AwsCheckOptions, PlannedCheck } from './planned-check';
import { elasticIpCheck, fargateCheck, natGatewayCheck, vpcCheck } from './quota-checks';
import { retainedTableCheck } from './retained-table-check';

export type { AwsCheckOptions } from './planned-check';
export { QUOTAS } from './quota-checks';

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
    for (const make of [
      availabilityZoneCheck,
      elasticIpCheck,
      natGatewayCheck,
      vpcCheck,
      fargateCheck,
    ]) {
      planned.push({ check: make(options, need), region: need.region });
    }
  }
  planned.push({ check: retainedTableCheck(options), region: options.config.homeRegion });
  const cloudFront = cloudFrontCheck(options);
  if (cloudFront) planned.push({ check: cloudFront });
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
