import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';

import { classifyAwsError, errorCode } from './aws-errors';
import { fail, ok } from './check';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

/**
 * Stacks that manage nothing: deleted, or whose first creation rolled back (the CLI deletes and
 * recreates those on the next deploy).
 */
const MANAGES_NOTHING = new Set(['DELETE_COMPLETE', 'ROLLBACK_COMPLETE']);

/** The names the blueprint gives them (see `createBlueprint`). */
export const dataStackName = (projectName: string) => `${projectName}-Data`;
export const catalogTableName = (projectName: string) => `${projectName}-catalog`;

/** `-c config=<file>` when the doctor was given a config file, for commands it prints. */
export const configFlag = (configPath: string | undefined) =>
  configPath ? ` -c config=${configPath}` : '';

/**
 * The global table `cdk destroy --all` keeps (while `data.deletionProtection` is on): when it
 * exists without its Data stack, the next `cdk deploy` of that stack fails ("already exists"),
 * because the table's name is fixed. CloudFormation can adopt it, data and replicas included: the
 * check prints the exact command.
 */
export function retainedTableCheck(options: AwsCheckOptions): PlannedCheck {
  const { projectName, homeRegion } = options.config;
  const stackName = dataStackName(projectName);
  const tableName = catalogTableName(projectName);
  const id = 'retained-table';
  const title = `${homeRegion} table ${tableName}`;
  const flag = configFlag(options.configPath);
  return {
    id,
    title,
    actions: 'cloudformation:DescribeStacks, dynamodb:DescribeTable',
    byHand: `aws cloudformation describe-stacks --stack-name ${stackName} --region ${homeRegion}; aws dynamodb describe-table --table-name ${tableName} --region ${homeRegion}`,
    run: async () => {
      try {
        const found = await options.clients
          .cloudFormation(homeRegion)
          .send(new DescribeStacksCommand({ StackName: stackName }));
        const stack = found.Stacks?.find((s) => s.StackName === stackName);
        if (stack && !MANAGES_NOTHING.has(stack.StackStatus ?? '')) {
          return ok(id, title, `managed by the stack ${stackName} (${stack.StackStatus})`);
        }
      } catch (error) {
        if (classifyAwsError(error) !== 'not-found') throw error;
      }
      let table;
      try {
        table = (
          await options.clients
            .dynamoDb(homeRegion)
            .send(new DescribeTableCommand({ TableName: tableName }))
        ).Table;
      } catch (error) {
        if (errorCode(error) !== 'ResourceNotFoundException') throw error;
        return ok(
          id,
          title,
          `no table and no stack ${stackName} yet: the first deploy creates both`,
        );
      }
      const replicas = (table?.Replicas ?? []).map((r) => r.RegionName).filter(Boolean);
      const configured = options.config.regions.map((r) => r.region);
      const regions = [...new Set([homeRegion, ...replicas])];
      const differ =
        regions.length !== new Set([homeRegion, ...configured]).size ||
        !configured.every((r) => regions.includes(r))
          ? `; it has replicas in ${regions.join(', ')} and the config serves ${configured.join(', ')}, which the deploy after the import reconciles`
          : '';
      return fail(
        id,
        title,
        `${tableName} exists (${table?.TableStatus ?? 'unknown status'}, ${table?.ItemCount ?? '?'} items) but no stack ${stackName} manages it: kept by an earlier cdk destroy. Deploying ${stackName} as usual would fail because the name is taken${differ}`,
        `adopt it, data and all: npx cdk deploy ${stackName} --exclusively --import-existing-resources${flag}; then npx cdk deploy --all${flag}. (Or, if its data may go: aws dynamodb update-table --table-name ${tableName} --no-deletion-protection-enabled --region ${homeRegion}, then delete it and every replica)`,
      );
    },
  };
}
