/**
 * Every Lambda function of this project is a ProjectFunction. All of them deploy ONE shared asset,
 * bundled once per synth by one esbuild run over every `lambda/<folder>/index.ts` (see bundle.ts):
 *
 *   // lambda/deploy-gate/index.ts exports `handler`:
 *   const fn = new ProjectFunction(this, 'DeployGate', {
 *     entry: path.join(LAMBDA_ROOT, 'deploy-gate', 'index.ts'),
 *     role, logGroup, memorySize: 256, timeout: Duration.seconds(30), environment: { ... },
 *   });
 *
 * It takes the props of a `NodejsFunction` without `bundling`: switching one over is replacing
 * `new NodejsFunction(` with `new ProjectFunction(` and deleting its `bundling` property. With no
 * role and log group of its own, use `ProjectFunction.withOwnRole` (as the chaos and game-day
 * functions do): a role without managed policies and a log group only this function writes to.
 */
import * as path from 'node:path';

import {
  AssetHashType,
  DockerImage,
  Duration,
  RemovalPolicy,
  Stack,
  Validations,
  type ILocalBundling,
} from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  Architecture,
  Code,
  Function as LambdaFunction,
  FunctionOptions,
  Runtime,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

import { LAMBDA_ROOT, PROJECT_BUNDLING, bundleProject, projectEntries } from './bundle';

export interface ProjectFunctionProps extends FunctionOptions {
  /** The function's handler file: `lambda/<folder>/index.ts`. */
  readonly entry: string;
  /**
   * The name the entry exports its handler under.
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * The runtime. The shared bundle targets Node.js 22, so only Node.js 22 is accepted.
   * @default Runtime.NODEJS_22_X
   */
  readonly runtime?: Runtime;
}

export interface OwnRoleProps extends Omit<ProjectFunctionProps, 'role' | 'logGroup'> {
  /** What the function may do besides writing its logs (and X-Ray, with active tracing). */
  readonly statements?: readonly PolicyStatement[];
  /** Describes the role in IAM, e.g. `chaos stop-tasks in us-east-1`. */
  readonly roleDescription: string;
  /**
   * How long the function's logs are kept.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * Why the role's `Resource::*` grants are needed, for cdk-nag (AwsSolutions-IAM5). Name every
   * action that has no resource-level permission, X-Ray's included.
   * @default - X-Ray's actions only, as active tracing adds them
   */
  readonly wildcardReason?: string;
}

/** Builds the shared asset on this machine with the repository's esbuild; never falls back to Docker. */
class ProjectBundling implements ILocalBundling {
  /** Part of the CDK's cache key: one bundle per synth process for these entries and options. */
  public readonly entries: Readonly<Record<string, string>>;
  public readonly options = PROJECT_BUNDLING;

  constructor(entries: Readonly<Record<string, string>>) {
    this.entries = entries;
  }

  public tryBundle(outputDir: string): boolean {
    bundleProject(outputDir, { entries: this.entries });
    return true;
  }
}

/** A Node.js 22 function on ARM64 with active tracing, deploying the project's shared bundle. */
export class ProjectFunction extends LambdaFunction {
  /**
   * The function with its own role (no managed policy: `statements`, its log group, X-Ray) and log
   * group, created next to it as `<id>Role` and `<id>Logs`.
   */
  public static withOwnRole(scope: Construct, id: string, props: OwnRoleProps): ProjectFunction {
    const {
      statements = [],
      roleDescription,
      logRetention,
      wildcardReason,
      ...functionProps
    } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: roleDescription,
    });
    logGroup.grantWrite(role);
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    const fn = new ProjectFunction(scope, id, { ...functionProps, role, logGroup });
    if (
      wildcardReason !== undefined ||
      (functionProps.tracing ?? Tracing.ACTIVE) === Tracing.ACTIVE
    ) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          wildcardReason ??
          'xray:PutTraceSegments/PutTelemetryRecords (active tracing) support no resource-level permission',
      });
    }
    return fn;
  }

  constructor(scope: Construct, id: string, props: ProjectFunctionProps) {
    const { entry, handler = 'handler', runtime = Runtime.NODEJS_22_X, ...options } = props;
    super(scope, id, {
      architecture: Architecture.ARM_64,
      tracing: Tracing.ACTIVE,
      timeout: Duration.seconds(30),
      ...options,
      runtime,
      code: projectCode(),
      handler: `${entryFolder(scope, id, entry, runtime)}.${handler}`,
    });
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is the pinned runtime: the shared bundle targets it and bench/lambda.ts measures ' +
        'it; move to a newer runtime together with the bundle target and a new bench run',
    });
  }
}

/**
 * The shared asset. A new `Code` per function (the CDK binds one to one stack), all with the same
 * bundling: the CDK's asset cache bundles once per process and every function deploys that asset.
 */
function projectCode(): Code {
  return Code.fromAsset(LAMBDA_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      local: new ProjectBundling(projectEntries()),
      // Required by the CDK's type; never used, since local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs22.x'),
    },
  });
}

/** `entry` must be `lambda/<folder>/index.ts` for a folder the shared bundle holds. */
function entryFolder(scope: Construct, id: string, entry: string, runtime: Runtime): string {
  const problems: string[] = [];
  const folder = path.basename(path.dirname(entry));
  const expected = projectEntries()[folder];
  if (expected === undefined || path.resolve(entry) !== expected) {
    problems.push(
      `entry must be lambda/<folder>/index.ts of this project (${Object.keys(projectEntries()).join(', ')}), got ${entry}`,
    );
  }
  if (runtime.family !== Runtime.NODEJS_22_X.family || runtime.name !== Runtime.NODEJS_22_X.name) {
    problems.push(`runtime must be nodejs22.x (the shared bundle targets it), got ${runtime.name}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `ProjectFunction ${Stack.of(scope).stackName}/${id}: ${problems.length} invalid prop(s):\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
  return folder;
}
