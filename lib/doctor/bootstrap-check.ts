import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParameterCommand } from '@aws-sdk/client-ssm';

import { classifyAwsError } from './aws-errors';
import { fail, ok, warn } from './check';
import { RegionNeeds } from './needs';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

/**
 * The region's CDK bootstrap stack: there, usable, and at least the version this aws-cdk-lib needs
 * (its `BootstrapVersion` output, or the SSM parameter the CLI also reads).
 */
export function bootstrapCheck(
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
