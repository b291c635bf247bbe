import { join } from 'node:path';

import { ResolvedConfig } from '../config';

import { runAwsChecks } from './aws-checks';
import { AwsClients } from './aws-clients';
import { ProbeAssembly } from './cdk-probe';
import { CheckResult } from './check';
import {
  checkAlarmEmail,
  checkArm64Build,
  checkCdkOnPath,
  checkCdkVersions,
  checkContainerRuntime,
  checkNode,
  ProbeOutcome,
} from './local-checks';
import { LocalEnvironment } from './local-environment';
import { regionNeeds } from './needs';
import { checkZonalShift } from './zonal-shift-check';

/**
 * The minimum of the CDK's default synthesizer, used only when the probe assembly could not be
 * synthesized (the probe reads the real figure from the library).
 */
const FALLBACK_BOOTSTRAP_VERSION = 6;
/** The AWS CLI starts slowly (Python); it gets longer than an SDK call. */
const AWS_CLI_TIMEOUT_MS = 20_000;

export interface DoctorOptions {
  readonly config: ResolvedConfig;
  readonly local: LocalEnvironment;
  readonly aws: AwsClients;
  /**
   * The config file given with --config, for the commands the report prints.
   * @default - the default config
   */
  readonly configPath?: string;
  /** Synthesizes the probe assembly (see `synthesizeProbe`); tests pass a fake. */
  readonly probe: () => ProbeAssembly;
}

/** The bootstrap template version the project's CLI installs, from its template. */
export function cliBootstrapTemplateVersion(local: LocalEnvironment): number | undefined {
  const template = local.readFile(
    join(
      local.rootDir,
      'node_modules',
      'aws-cdk',
      'lib',
      'api',
      'bootstrap',
      'bootstrap-template.yaml',
    ),
  );
  const outputs = template?.split(/^Outputs:\s*$/m)[1];
  const match = outputs && /^ {2}BootstrapVersion:[\s\S]*?^ {4}Value:\s*'?(\d+)'?/m.exec(outputs);
  return match ? Number(match[1]) : undefined;
}

/** The toolkit stack name and qualifier from cdk.json, where a fork may have changed them. */
export function bootstrapSettings(local: LocalEnvironment): {
  toolkitStackName?: string;
  qualifier?: string;
} {
  const text = local.readFile(join(local.rootDir, 'cdk.json'));
  if (text === undefined) return {};
  try {
    const cdkJson = JSON.parse(text) as {
      toolkitStackName?: unknown;
      context?: Record<string, unknown>;
    };
    const qualifier = cdkJson.context?.['@aws-cdk/core:bootstrapQualifier'];
    return {
      toolkitStackName:
        typeof cdkJson.toolkitStackName === 'string' ? cdkJson.toolkitStackName : undefined,
      qualifier: typeof qualifier === 'string' ? qualifier : undefined,
    };
  } catch {
    return {};
  }
}

/** What the report opens with: which config, which stacks in which regions. */
export function describeTarget(config: ResolvedConfig, source: string): string[] {
  const needs = regionNeeds(config);
  const stacks = needs.flatMap((n) => n.stackNames.map((s) => `${s} (${n.region})`));
  return [
    `npm run doctor: preflight for ${source}`,
    `project ${config.projectName}: ${stacks.join(', ')}`,
  ];
}

/**
 * Every check, local ones and AWS ones side by side: the local checks spawn programs, the AWS
 * checks wait on the network.
 */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const { local, config } = options;
  let probe: ProbeOutcome;
  let requiredBootstrapVersion = FALLBACK_BOOTSTRAP_VERSION;
  try {
    const assembly = options.probe();
    probe = assembly;
    requiredBootstrapVersion = assembly.requiredBootstrapVersion;
  } catch (error) {
    probe = { error: (error as Error).message.split('\n')[0] };
  }

  const localChecks = (async () => {
    const runtime = await checkContainerRuntime(local);
    const [arm64, cdk, cdkOnPath] = await Promise.all([
      checkArm64Build(local, runtime),
      checkCdkVersions(local, probe),
      checkCdkOnPath(local),
    ]);
    return [
      checkNode(local),
      runtime,
      arm64,
      cdk,
      cdkOnPath,
      checkAlarmEmail(config),
      checkZonalShift(config),
    ];
  })();
  const awsChecks = runAwsChecks({
    clients: options.aws,
    config,
    requiredBootstrapVersion,
    latestBootstrapVersion: cliBootstrapTemplateVersion(local),
    configPath: options.configPath,
    awsCli: (args) => local.run('aws', args, { timeoutMs: AWS_CLI_TIMEOUT_MS }),
    ...bootstrapSettings(local),
  });
  const [localResults, awsResults] = await Promise.all([localChecks, awsChecks]);
  return [...localResults, ...awsResults];
}
