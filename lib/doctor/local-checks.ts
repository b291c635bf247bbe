import { join } from 'node:path';

import { ResolvedConfig } from '../config';

import { CheckResult, fail, ok, skip, warn } from './check';
import { runtimeNodeMajor, stagesNeedingEmulation } from './dockerfile';
import { CommandResult, LocalEnvironment } from './local-environment';

/** The oldest Node the repository supports (package.json `engines`). */
export const MIN_NODE_MAJOR = 20;
/** What the service image and the Lambda functions run when the Dockerfile does not say. */
const DEFAULT_TARGET_NODE_MAJOR = 22;
const SERVICE_DOCKERFILE = join('service', 'Dockerfile');
const COMMAND_TIMEOUT_MS = 15_000;

/** The Node running the doctor against what the repository needs and what AWS runs. */
export function checkNode(env: LocalEnvironment): CheckResult {
  const title = 'Node.js';
  const major = Number(env.nodeVersion.split('.')[0]);
  const dockerfile = env.readFile(join(env.rootDir, SERVICE_DOCKERFILE));
  const target =
    (dockerfile === undefined ? undefined : runtimeNodeMajor(dockerfile)) ??
    DEFAULT_TARGET_NODE_MAJOR;
  if (!(major >= MIN_NODE_MAJOR)) {
    return fail(
      'node',
      title,
      `${env.nodeVersion} is older than ${MIN_NODE_MAJOR}, which the CDK app and tests need`,
      `install Node ${target} (e.g. nvm install ${target}) and run npm ci again`,
    );
  }
  if (major < target) {
    return warn(
      'node',
      title,
      `${env.nodeVersion} works, but the service image and the Lambda functions run Node ${target}`,
      `install Node ${target} (e.g. nvm install ${target}) so local runs match AWS`,
    );
  }
  return ok('node', title, `${env.nodeVersion} (the service image and Lambda run Node ${target})`);
}

/** The program that builds container images: `CDK_DOCKER` (e.g. finch, podman) or docker. */
export function containerCommand(env: LocalEnvironment): string {
  const configured = env.env.CDK_DOCKER?.trim();
  return configured ? configured : 'docker';
}

function firstLine(result: CommandResult): string {
  const text = `${result.stderr}\n${result.stdout}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return text ?? `exit code ${String(result.exitCode)}`;
}

/** Whether the container runtime answers, so `cdk deploy` can build the service image. */
export async function checkContainerRuntime(env: LocalEnvironment): Promise<CheckResult> {
  const command = containerCommand(env);
  const title = 'container runtime';
  const viaCdkDocker = env.env.CDK_DOCKER?.trim() ? ' (from CDK_DOCKER)' : '';
  const result = await env.run(command, ['info'], { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.spawnError === 'ENOENT') {
    return fail(
      'container',
      title,
      `${command}${viaCdkDocker} is not installed; cdk deploy builds the service image with it`,
      'install Docker (Docker Desktop, or Docker Engine with the buildx plugin), or set CDK_DOCKER=finch or CDK_DOCKER=podman',
    );
  }
  if (result.timedOut) {
    return fail(
      'container',
      title,
      `\`${command} info\` did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`,
      `restart ${command} (Docker Desktop, \`finch vm start\` or \`podman machine start\`)`,
    );
  }
  if (result.exitCode !== 0) {
    return fail(
      'container',
      title,
      `\`${command} info\` failed: ${firstLine(result)}`,
      `start ${command}'s daemon (Docker Desktop, \`sudo systemctl start docker\`, \`finch vm start\` or \`podman machine start\`)`,
    );
  }
  return ok('container', title, `\`${command} info\` answers${viaCdkDocker}`);
}

/**
 * Whether this machine can build the ARM64 image. On ARM64 it builds natively. On x86, docker needs
 * buildx (BuildKit: the Dockerfile uses `RUN --mount` and `--platform=$BUILDPLATFORM`), and QEMU
 * only if a `RUN` step executes on the target platform.
 */
export async function checkArm64Build(
  env: LocalEnvironment,
  runtime: CheckResult,
): Promise<CheckResult> {
  const id = 'arm64-build';
  const title = 'ARM64 image build';
  if (runtime.status !== 'ok') return skip(id, title, 'no container runtime answers');
  if (env.arch === 'arm64') {
    return ok(id, title, 'this machine is ARM64, so the image builds natively');
  }
  const command = containerCommand(env);
  const notes: string[] = [];
  if (command === 'docker') {
    const buildx = await env.run(command, ['buildx', 'version'], { timeoutMs: COMMAND_TIMEOUT_MS });
    if (buildx.exitCode !== 0) {
      return fail(
        id,
        title,
        `docker buildx is missing (${firstLine(buildx)}); service/Dockerfile needs BuildKit for RUN --mount and --platform=$BUILDPLATFORM`,
        'install the buildx plugin (Docker Desktop has it; on Debian/Ubuntu: apt-get install docker-buildx-plugin)',
      );
    }
    notes.push(`buildx ${buildx.stdout.trim().split(/\s+/)[1] ?? 'present'}`);
  }
  const dockerfile = env.readFile(join(env.rootDir, SERVICE_DOCKERFILE));
  if (dockerfile === undefined) {
    return fail(
      id,
      title,
      `${SERVICE_DOCKERFILE} is missing; the regional stacks build the service image from it`,
      'restore service/Dockerfile, or pass your own image to RegionalStack (see docs/fork.md)',
    );
  }
  const emulated = stagesNeedingEmulation(dockerfile);
  if (emulated.length === 0) {
    notes.push('no QEMU needed: every RUN step runs on the build platform');
    return ok(id, title, `x86 builds linux/arm64 (${notes.join('; ')})`);
  }
  const stages = emulated.map((s) => s.image).join(', ');
  const binfmt = env.platform !== 'linux' || env.exists('/proc/sys/fs/binfmt_misc/qemu-aarch64');
  if (!binfmt) {
    return fail(
      id,
      title,
      `RUN steps of ${stages} execute as ARM64, and this x86 Linux machine has no QEMU for aarch64`,
      'register QEMU: docker run --privileged --rm tonistiigi/binfmt --install arm64 (or pin those stages to --platform=$BUILDPLATFORM)',
    );
  }
  notes.push(`RUN steps of ${stages} run under QEMU emulation (slower)`);
  return ok(id, title, `x86 builds linux/arm64 (${notes.join('; ')})`);
}

function packageVersion(env: LocalEnvironment, name: string): string | undefined {
  const text = env.readFile(join(env.rootDir, 'node_modules', name, 'package.json'));
  if (text === undefined) return undefined;
  try {
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined;
  }
}

/** What the probe assembly told about this aws-cdk-lib, or why there is none. */
export type ProbeOutcome =
  | {
      readonly directory: string;
      readonly schemaVersion: string;
      readonly matchingCliVersion: string;
    }
  | { readonly error: string };

/**
 * Whether the project's CDK CLI reads what its aws-cdk-lib writes: it reads a probe assembly the
 * library synthesized (`cdk ls --app <dir>`), so a CLI too old for the library's cloud-assembly
 * schema, or of another major line, is caught the way `cdk deploy` would fail.
 */
export async function checkCdkVersions(
  env: LocalEnvironment,
  probe: ProbeOutcome,
): Promise<CheckResult> {
  const id = 'cdk-versions';
  const title = 'CDK CLI and library';
  const cli = packageVersion(env, 'aws-cdk');
  const lib = packageVersion(env, 'aws-cdk-lib');
  if (cli === undefined || lib === undefined) {
    const missing = [cli === undefined && 'aws-cdk', lib === undefined && 'aws-cdk-lib']
      .filter(Boolean)
      .join(' and ');
    return fail(
      id,
      title,
      `${missing} not installed in node_modules`,
      'run npm ci in the repository root',
    );
  }
  if ('error' in probe) {
    return warn(
      id,
      title,
      `CLI ${cli}, library ${lib}; could not synthesize a probe assembly to compare them: ${probe.error}`,
      'run npx cdk synth: it fails with the CLI’s own message if the two do not match',
    );
  }
  const pin = `npm install --save-dev --save-exact aws-cdk@${probe.matchingCliVersion}`;
  const cliBin = join(env.rootDir, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  const result = await env.run(
    env.nodeExecutable,
    [cliBin, 'ls', '--app', probe.directory, '--no-notices'],
    {
      timeoutMs: 60_000,
      cwd: probe.directory,
      // Offline and quiet: no npm version check, no telemetry.
      env: { CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: 'true' },
    },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  if (result.exitCode === 0) {
    return ok(
      id,
      title,
      `CLI ${cli} reads library ${lib}'s cloud assemblies (schema ${probe.schemaVersion})`,
    );
  }
  if (/not compatible|schema version mismatch/i.test(output)) {
    const reason = output.replace(/\s+/g, ' ').trim();
    return fail(
      id,
      title,
      `CLI ${cli} refuses library ${lib}'s cloud assemblies (schema ${probe.schemaVersion}): ${reason}`,
      `${pin} (the CLI released with this library), then use npx cdk`,
    );
  }
  return warn(
    id,
    title,
    `CLI ${cli} could not read a probe assembly of library ${lib}: ${firstLine(result)}`,
    `reinstall the matching CLI: ${pin}`,
  );
}

/**
 * A `cdk` on PATH other than the project's own is what a plain `cdk deploy` runs; if it differs
 * from the project's CLI, it may refuse the library or behave differently.
 */
export async function checkCdkOnPath(env: LocalEnvironment): Promise<CheckResult> {
  const id = 'cdk-on-path';
  const title = 'cdk on PATH';
  const local = packageVersion(env, 'aws-cdk');
  const projectBin = join(env.rootDir, 'node_modules', '.bin');
  const other = env.findOnPath('cdk').find((path) => !path.startsWith(projectBin));
  if (other === undefined) {
    return ok(id, title, 'none besides the project’s own; use npx cdk');
  }
  const result = await env.run(other, ['--version'], { timeoutMs: COMMAND_TIMEOUT_MS });
  const version = /(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1];
  if (version !== undefined && version === local) {
    return ok(id, title, `${other} is ${version}, the same as the project’s CLI`);
  }
  return warn(
    id,
    title,
    `${other} is ${version ?? 'of unknown version'}, the project’s CLI is ${local ?? 'not installed'}`,
    'run the project’s CLI with npx cdk (as every command in the README does), or update the global one to the same version',
  );
}

/** Whether anyone hears the alarms. */
export function checkAlarmEmail(config: ResolvedConfig): CheckResult {
  const title = 'alarm e-mail';
  if (config.alarmEmail === undefined) {
    return warn(
      'alarm-email',
      title,
      'alarmEmail is not set: alarms publish to SNS topics that nobody subscribes to',
      'set "alarmEmail": "oncall@example.com" in your config (and confirm the subscription e-mail after deploying)',
    );
  }
  return ok(
    'alarm-email',
    title,
    `${config.alarmEmail} (confirm the subscription e-mail SNS sends after the deploy)`,
  );
}
