import { ResolvedConfig } from './config';
import { regionNeeds } from './doctor/needs';

export const BOOTSTRAP_USAGE = `Usage: npx tsx scripts/bootstrap-targets.ts [--config <file>] [--account <12 digits>]
Prints the regions the config's stacks deploy to (us-east-1 always, for the Global stack), or with
--account the aws://<account>/<region> environments for \`npx cdk bootstrap\`.`;

export class BootstrapUsageError extends Error {
  public override readonly name = 'BootstrapUsageError';
}

export interface BootstrapArgs {
  readonly configPath?: string;
  readonly account?: string;
}

/** Parses `--config <file>` and `--account <id>`; anything else is a usage error. */
export function parseBootstrapArgs(argv: readonly string[]): BootstrapArgs {
  const args: { configPath?: string; account?: string } = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if ((flag !== '--config' && flag !== '--account') || value === undefined) {
      throw new BootstrapUsageError(
        `unknown option or missing value at ${JSON.stringify(flag)}; allowed: --config <file>, --account <12 digits>`,
      );
    }
    if (flag === '--config') args.configPath = value;
    else if (/^\d{12}$/.test(value)) args.account = value;
    else throw new BootstrapUsageError(`--account must be 12 digits, got ${JSON.stringify(value)}`);
  }
  return args;
}

/**
 * Every region a stack of `config` deploys to, in deploy order (the configured regions, then
 * us-east-1 when only the Global stack is there), each of which `cdk bootstrap` must prepare.
 */
export function bootstrapTargets(config: ResolvedConfig, account?: string): string[] {
  const regions = regionNeeds(config).map((n) => n.region);
  return account === undefined ? regions : regions.map((r) => `aws://${account}/${r}`);
}
