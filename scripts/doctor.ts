/**
 * npm run doctor [-- --config <file>]: checks, before a deploy, what would make it fail. One line
 * per check (ok / WARN / FAIL / skip) with the fix. Without AWS credentials, or offline, it runs
 * the local checks and lists the AWS checks it skipped and why.
 *
 * Exit code: 0 when no check failed, 1 when one did, 2 for a bad flag or config file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError } from '../lib/config';
import { parseDoctorArgs, USAGE, UsageError } from '../lib/doctor/args';
import { createAwsClients } from '../lib/doctor/aws-clients';
import { synthesizeProbe } from '../lib/doctor/cdk-probe';
import { describeTarget, runDoctor } from '../lib/doctor/doctor';
import { processEnvironment } from '../lib/doctor/local-environment';
import { exitCodeFor, renderReport } from '../lib/doctor/report';
import { loadConfig } from '../lib/load-config';

const ROOT = join(__dirname, '..');

// The SDK warns on stderr about Node versions before 22; the report's Node.js line already says
// what to run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<number> {
  let args;
  try {
    args = parseDoctorArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  let config;
  try {
    config = loadConfig(args.configPath);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'blueprint-doctor-'));
  const aws = createAwsClients();
  try {
    const results = await runDoctor({
      config,
      local: processEnvironment(ROOT),
      configPath: args.configPath,
      aws,
      probe: () => synthesizeProbe(workDir),
    });
    const source = args.configPath ? `config file ${args.configPath}` : 'the default config';
    process.stdout.write(`${renderReport(results, describeTarget(config, source))}\n`);
    return exitCodeFor(results);
  } finally {
    aws.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    // An unexpected error is ours, not the user's: one line, no stack trace.
    process.stderr.write(`npm run doctor stopped unexpectedly: ${(error as Error).message}\n`);
    process.exitCode = 2;
  },
);
