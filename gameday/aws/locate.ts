/** Finds the deployed game day of one region: who we are, and the stack's state machine and bucket. */
import { CloudFormationClient, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';

import { GAMEDAY_OUTPUTS } from '../../lib/constructs/gameday/contract';

import { GameDayCliError, awsErrorName, explainAwsError } from './errors';

export interface GameDayTarget {
  readonly account: string;
  readonly region: string;
  readonly stackName: string;
  readonly stateMachineArn: string;
  readonly reportBucket: string;
}

/**
 * The regional stack's name, as lib/blueprint.ts `stackNames` gives it (a test holds them equal);
 * the CLI does not load the CDK app just for the name.
 */
export const regionalStackName = (projectName: string, region: string): string =>
  `${projectName}-${region}`;

/** Stack states in which the stack's resources are deployed and settled. */
const SETTLED = /^(CREATE_COMPLETE|UPDATE_COMPLETE|UPDATE_ROLLBACK_COMPLETE|IMPORT_COMPLETE)$/;

export async function locateGameDay(
  clients: { readonly sts: STSClient; readonly cloudFormation: CloudFormationClient },
  stackName: string,
  region: string,
): Promise<GameDayTarget> {
  let account: string;
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
    account = identity.Account ?? 'unknown';
  } catch (error) {
    throw explainAwsError(error, 'find out who your credentials belong to', region);
  }

  let stack: Stack | undefined;
  try {
    const out = await clients.cloudFormation.send(
      new DescribeStacksCommand({ StackName: stackName }),
    );
    stack = out.Stacks?.[0];
  } catch (error) {
    if (awsErrorName(error) !== 'ValidationError') {
      throw explainAwsError(error, `read stack ${stackName}`, region);
    }
  }
  if (!stack) {
    throw new GameDayCliError(
      `No stack ${stackName} in account ${account}, region ${region}. Deploy the blueprint there ` +
        `first (npx cdk deploy ${stackName}), or name the region it runs in with --region.`,
    );
  }
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (!SETTLED.test(status)) {
    throw new GameDayCliError(
      `Stack ${stackName} is ${status}; run a game day only against a settled deployment.`,
    );
  }
  const outputs = stack.Outputs ?? [];
  const output = (key: string) => outputs.find((o) => o.OutputKey === key)?.OutputValue;
  const stateMachineArn = output(GAMEDAY_OUTPUTS.stateMachineArn);
  const reportBucket = output(GAMEDAY_OUTPUTS.reportBucket);
  if (!stateMachineArn || !reportBucket) {
    throw new GameDayCliError(
      `Stack ${stackName} has no ${GAMEDAY_OUTPUTS.stateMachineArn} and ${GAMEDAY_OUTPUTS.reportBucket} ` +
        'outputs: it was deployed with chaos.enabled false, or before the game day existed. ' +
        'Deploy it again with chaos enabled.',
    );
  }
  return { account, region, stackName, stateMachineArn, reportBucket };
}
