import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

import { createBlueprint } from '../../lib/blueprint';
import { resolveConfig } from '../../lib/load-config';

// The feature flags `cdk synth` runs with (cdk.json): they decide, among other things, whether the
// CDK adds log groups of its own and how cross-region references are made.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

interface Resource {
  /** `<stack name>/<construct path inside the stack>`, e.g. `Blueprint-Data/Catalog/Table/Resource`. */
  readonly path: string;
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  /** CloudFormation deletes a resource that names no DeletionPolicy. */
  readonly deletionPolicy: string;
  readonly updateReplacePolicy: string;
  readonly properties: Record<string, unknown>;
}

/** Every resource of every stack of the blueprint for `overrides`, as `cdk synth` renders it. */
function synthesizeResources(overrides: unknown): Resource[] {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const blueprint = createBlueprint(app, resolveConfig(overrides));
  const stacks: Stack[] = [blueprint.data, ...blueprint.regional, blueprint.global];
  return stacks.flatMap((stack) => {
    const paths = new Map<string, string>();
    for (const construct of stack.node.findAll()) {
      if (CfnElement.isCfnElement(construct)) {
        const inStack = construct.node.path.slice(stack.node.path.length + 1);
        paths.set(stack.resolve(construct.logicalId) as string, inStack);
      }
    }
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      {
        Type: string;
        DeletionPolicy?: string;
        UpdateReplacePolicy?: string;
        Properties?: Record<string, unknown>;
      }
    >;
    return Object.entries(resources).map(([logicalId, r]) => ({
      path: `${stack.stackName}/${paths.get(logicalId) ?? logicalId}`,
      stackName: stack.stackName,
      logicalId,
      type: r.Type,
      deletionPolicy: r.DeletionPolicy ?? 'Delete',
      updateReplacePolicy: r.UpdateReplacePolicy ?? 'Delete',
      properties: r.Properties ?? {},
    }));
  });
}

const retainedPaths = (resources: readonly Resource[]) =>
  resources
    .filter((r) => r.deletionPolicy !== 'Delete')
    .map((r) => `${r.path} (${r.type}, ${r.deletionPolicy})`)
    .sort();

const ofType = (resources: readonly Resource[], type: string) =>
  resources.filter((r) => r.type === type);

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-northeast-1'];

describe('cdk destroy --all with the default config', () => {
  // One synthesis of all five stacks; the tests only read it.
  const resources = synthesizeResources({});

  test('retains exactly the catalog global table', () => {
    // THEN nothing else survives `cdk destroy`
    expect(retainedPaths(resources)).toEqual([
      // data.deletionProtection (default true): customer data is never deleted by accident.
      'Blueprint-Data/Catalog/Table/Resource (AWS::DynamoDB::GlobalTable, Retain)',
    ]);
  });

  test("schedules the alarm topic's KMS key for deletion after the shortest waiting period", () => {
    const keys = ofType(resources, 'AWS::KMS::Key');
    expect(keys.map((k) => [k.path, k.deletionPolicy, k.properties.PendingWindowInDays])).toEqual([
      ['Blueprint-Global/RegionHealthAlarms/TopicKey/Resource', 'Delete', 7],
    ]);
  });

  test('keeps the global table and every replica under deletion protection', () => {
    // THEN
    const [table] = ofType(resources, 'AWS::DynamoDB::GlobalTable');
    expect(table.updateReplacePolicy).toBe('Retain');
    const replicas = table.properties.Replicas as {
      Region: string;
      DeletionProtectionEnabled: boolean;
    }[];
    expect(replicas.map((r) => [r.Region, r.DeletionProtectionEnabled]).sort()).toEqual(
      REGIONS.map((region) => [region, true]).sort(),
    );
  });

  test('empties every bucket in every stack before deleting it', () => {
    // GIVEN every bucket, among them each region's ALB access logs, the site, its logs and its
    // replica (a bucket added later is held to the same rule)
    const buckets = ofType(resources, 'AWS::S3::Bucket');
    expect(buckets.map((b) => b.path)).toEqual(
      expect.arrayContaining([
        ...REGIONS.map((region) => `Blueprint-${region}/LoadBalancer/AccessLogs/Resource`),
        'Blueprint-Global/Site/Bucket/Resource',
        'Blueprint-Global/Site/LogBucket/Resource',
        'Blueprint-eu-west-1/SiteReplica/Bucket/Resource',
      ]),
    );
    // THEN each is deleted, after a custom resource of its own stack has emptied it
    const autoDeleted = new Set(
      ofType(resources, 'Custom::S3AutoDeleteObjects').map(
        (r) => `${r.stackName}/${(r.properties.BucketName as { Ref: string }).Ref}`,
      ),
    );
    for (const bucket of buckets) {
      expect([bucket.path, bucket.deletionPolicy, bucket.updateReplacePolicy]).toEqual([
        bucket.path,
        'Delete',
        'Delete',
      ]);
      expect(autoDeleted).toContain(`${bucket.stackName}/${bucket.logicalId}`);
    }
  });

  test('deletes every log group with its stack, and expires its events meanwhile', () => {
    // THEN
    const logGroups = ofType(resources, 'AWS::Logs::LogGroup');
    expect(logGroups.length).toBeGreaterThan(0);
    for (const logGroup of logGroups) {
      expect([logGroup.path, logGroup.deletionPolicy]).toEqual([logGroup.path, 'Delete']);
      expect([logGroup.path, logGroup.properties.RetentionInDays]).toEqual([
        logGroup.path,
        expect.any(Number),
      ]);
    }
  });

  test('logs every function to a log group of its stack, except the CDK’s custom-resource handlers', () => {
    // GIVEN the log groups the stacks own
    const logGroupIds = new Set(
      ofType(resources, 'AWS::Logs::LogGroup').map((r) => `${r.stackName}/${r.logicalId}`),
    );
    // WHEN functions are sorted by where their logs go
    const unmanaged = ofType(resources, 'AWS::Lambda::Function')
      .filter((fn) => {
        const target = (fn.properties.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)
          ?.LogGroup?.Ref;
        return target === undefined || !logGroupIds.has(`${fn.stackName}/${target}`);
      })
      .map((fn) => fn.path)
      .sort();
    // THEN only the CDK's provider handlers log to the /aws/lambda/<name> group Lambda creates,
    // which outlives the stack (the README lists them)
    expect(unmanaged).toEqual(
      expect.arrayContaining([
        ...REGIONS.flatMap((region) => [
          `Blueprint-${region}/Custom::VpcRestrictDefaultSGCustomResourceProvider/Handler`,
          `Blueprint-${region}/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler`,
        ]),
        'Blueprint-Global/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler',
      ]),
    );
    const providerHandler = /^[\w-]+\/Custom::\w+CustomResourceProvider\/Handler$/;
    expect(unmanaged.filter((path) => !providerHandler.test(path))).toEqual([]);
  });

  test('deletes every single-region table, such as the chaos state of leases and audit entries', () => {
    // THEN
    const tables = ofType(resources, 'AWS::DynamoDB::Table');
    expect(tables.map((t) => t.path)).toEqual(
      expect.arrayContaining(
        REGIONS.map((region) => `Blueprint-${region}/Chaos/StateTable/Resource`),
      ),
    );
    for (const table of tables) {
      expect([table.path, table.deletionPolicy]).toEqual([table.path, 'Delete']);
    }
  });

  test('creates no repository, file system or database that could outlive a stack', () => {
    // THEN the service image lives in the CDK bootstrap stack's repository
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      'AWS::ECR::Repository',
      'AWS::EFS::FileSystem',
      'AWS::RDS::DBCluster',
      'AWS::RDS::DBInstance',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::Backup::BackupVault',
      'AWS::SecretsManager::Secret',
    ]) {
      expect(types).not.toContain(type);
    }
    // memcached keeps no snapshots, so its cluster goes with its stack
    expect(
      ofType(resources, 'AWS::ElastiCache::CacheCluster').map((c) => [c.path, c.deletionPolicy]),
    ).toEqual(REGIONS.map((region) => [`Blueprint-${region}/Cache/Cluster`, 'Delete']));
  });
});

describe('cdk destroy --all with deletion protection off', () => {
  const resources = synthesizeResources({ data: { deletionProtection: false } });

  test('deletes the global table and its replicas too, retaining nothing', () => {
    // THEN
    expect(retainedPaths(resources)).toEqual([]);
    const [table] = ofType(resources, 'AWS::DynamoDB::GlobalTable');
    const replicas = table.properties.Replicas as { DeletionProtectionEnabled: boolean }[];
    expect(replicas.map((r) => r.DeletionProtectionEnabled)).toEqual([false, false, false]);
  });
});
