/**
 * npx tsx scripts/bootstrap-targets.ts [--config <file>] [--account <id>]: the regions (or with
 * --account the aws://<account>/<region> environments) that `cdk bootstrap` must prepare for the
 * config, on one line. docs/fork.md section 7 uses it. Exit 2 for a bad flag or config file.
 */
import {
  BOOTSTRAP_USAGE,
  BootstrapUsageError,
  bootstrapTargets,
  parseBootstrapArgs,
} from '../lib/bootstrap-targets';
import { ConfigError } from '../lib/config';
import { loadConfig } from '../lib/load-config';

function main(): number {
  try {
    const args = parseBootstrapArgs(process.argv.slice(2));
    process.stdout.write(
      `${bootstrapTargets(loadConfig(args.configPath), args.account).join(' ')}\n`,
    );
    return 0;
  } catch (error) {
    if (error instanceof BootstrapUsageError) {
      process.stderr.write(`${error.message}\n\n${BOOTSTRAP_USAGE}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main();
