import { CheckResult, ok, skip, warn } from './check';
import { AwsCheckOptions, PlannedCheck } from './planned-check';

/** The arguments the doctor passes to the AWS CLI; tests answer exactly this command. */
export const LIST_DISTRIBUTIONS_ARGS = [
  'cloudfront',
  'list-distributions',
  '--max-items',
  '1',
  '--output',
  'json',
] as const;

/** What CloudFront answers an account it has not verified yet, on the first CreateDistribution. */
const UNVERIFIED_MESSAGE =
  'Your account must be verified before you can add new CloudFront resources';

/**
 * Whether this account may create CloudFront distributions. New accounts may not until AWS
 * verifies them, and the Global stack, which holds the only distribution, deploys last: the
 * failure would come after every regional stack. No API reports the verification itself, so the
 * doctor reads the one signal there is: an account that already has a distribution was allowed to
 * create one. An account with none is possibly unverified, and the check says so.
 *
 * It reads CloudFront through the AWS CLI (the repository has no CloudFront SDK client): without the
 * CLI it is skipped, saying so.
 */
export function cloudFrontCheck(options: AwsCheckOptions): PlannedCheck | undefined {
  const awsCli = options.awsCli;
  if (awsCli === undefined) return undefined;
  const id = 'cloudfront';
  const title = 'CloudFront distributions';
  const global = `${options.config.projectName}-Global`;
  const flag = options.configPath ? ` -c config=${options.configPath}` : '';
  return {
    id,
    title,
    actions: 'cloudfront:ListDistributions',
    byHand: `aws ${LIST_DISTRIBUTIONS_ARGS.join(' ')}`,
    run: async (): Promise<CheckResult> => {
      const result = await awsCli(LIST_DISTRIBUTIONS_ARGS);
      if (result.spawnError !== undefined) {
        return skip(
          id,
          title,
          'the AWS CLI is not installed',
          'not checked: the doctor reads CloudFront through the AWS CLI, which is not installed; see whether the CloudFront console lists a distribution',
        );
      }
      if (result.exitCode !== 0 || result.timedOut) {
        const line =
          `${result.stderr}\n${result.stdout}`
            .split('\n')
            .map((l) => l.trim())
            .find((l) => l !== '') ?? `exit code ${String(result.exitCode)}`;
        const denied = /AccessDenied/i.test(line);
        return warn(
          id,
          title,
          `could not check: ${line}`,
          denied
            ? 'allow cloudfront:ListDistributions for these credentials, or check by hand in the CloudFront console'
            : `run npm run doctor again; if it persists, check by hand: aws ${LIST_DISTRIBUTIONS_ARGS.join(' ')}`,
        );
      }
      const text = result.stdout.trim();
      const parsed = (text === '' ? {} : JSON.parse(text)) as {
        DistributionList?: { Items?: { Id?: string }[] };
      };
      const first = parsed.DistributionList?.Items?.[0];
      if (first !== undefined) {
        return ok(
          id,
          title,
          `this account already has a distribution (${first.Id ?? 'unnamed'}), so CloudFront has let it create them`,
        );
      }
      return warn(
        id,
        title,
        `this account has no distribution yet. A new account may be refused its first one ("${UNVERIFIED_MESSAGE}"), and ${global}, which holds it, deploys after every regional stack; no API shows whether the account is verified`,
        `if the account is new, ask AWS Support to enable CloudFront for it before deploying; if ${global} fails with that message, the regional stacks stay: once verified, run npx cdk deploy ${global}${flag}`,
      );
    },
  };
}
