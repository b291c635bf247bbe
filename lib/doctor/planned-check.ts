import { ResolvedConfig } from '../config';

import { AwsClients } from './aws-clients';
import { CheckResult } from './check';
import { CommandResult } from './local-environment';

/** What every AWS check reads. */
export interface AwsCheckOptions {
  readonly clients: AwsClients;
  readonly config: ResolvedConfig;
  /** The lowest bootstrap version this aws-cdk-lib can deploy with (see `synthesizeProbe`). */
  readonly requiredBootstrapVersion: number;
  /** The bootstrap template version the project's CLI installs, for an upgrade hint. */
  readonly latestBootstrapVersion?: number;
  /** @default 'CDKToolkit' */
  readonly toolkitStackName?: string;
  /** @default 'hnb659fds' */
  readonly qualifier?: string;
  /**
   * The config file the doctor was given, for the commands it prints (`-c config=<file>`).
   * @default - the default config: no flag
   */
  readonly configPath?: string;
  /**
   * Runs the AWS CLI with these arguments (for what no SDK client of the repository reads).
   * @default - checks that need the CLI are not planned
   */
  readonly awsCli?: (args: readonly string[]) => Promise<CommandResult>;
}

/** A check that has not run yet, so that it can be listed as skipped. */
export interface PlannedCheck {
  readonly id: string;
  readonly title: string;
  /** The IAM actions it calls, named when access is denied. */
  readonly actions: string;
  /** How to check by hand when the doctor cannot. */
  readonly byHand: string;
  readonly run: () => Promise<CheckResult>;
}
