import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Runtime } from 'aws-cdk-lib/aws-lambda';

import { countingBundlingLines } from '../../lib/bundling-log';
import { CHAOS_FUNCTION_NAMES } from '../../lib/constructs/chaos/bundling';
import { LAMBDA_ROOT, bundleProject, projectEntries } from '../../lib/constructs/lambda/bundle';
import { ProjectFunction } from '../../lib/constructs/lambda/project-function';

const entry = (folder: string) => path.join(LAMBDA_ROOT, folder, 'index.ts');
const GUARDED = CHAOS_FUNCTION_NAMES.filter((n) => n !== 'canary');

/** An app whose stacks skip bundling, as the other construct tests do. */
const unbundledApp = () => new App({ context: { 'aws:cdk:bundling-stacks': [] } });

describe('ProjectFunction', () => {
  test('defaults to Node.js 22 on ARM64, active tracing, and the handler <folder>.handler', () => {
    // GIVEN
    const stack = new Stack(unbundledApp(), 'S', { env: { region: 'eu-west-1' } });
    // WHEN
    new ProjectFunction(stack, 'Fn', { entry: entry('stop-tasks') });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'stop-tasks.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Timeout: 30,
    });
  });

  test('withOwnRole creates a role without managed policies and a log group only it writes to', () => {
    // GIVEN
    const stack = new Stack(unbundledApp(), 'S', { env: { region: 'eu-west-1' } });
    // WHEN
    ProjectFunction.withOwnRole(stack, 'Gate', {
      entry: entry('canary'),
      roleDescription: 'deploy gate in eu-west-1',
      statements: [
        new PolicyStatement({
          actions: ['ecs:DescribeServices'],
          resources: ['arn:aws:ecs:eu-west-1:111111111111:service/c/s'],
        }),
      ],
      timeout: Duration.seconds(20),
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Role', {
      Description: 'deploy gate in eu-west-1',
      ManagedPolicyArns: Match.absent(),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'ecs:DescribeServices',
            Resource: 'arn:aws:ecs:eu-west-1:111111111111:service/c/s',
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'canary.handler',
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^GateLogs') } },
    });
  });

  test('refuses an entry outside lambda/<folder>/index.ts and a runtime other than Node.js 22, naming both', () => {
    // GIVEN
    const stack = new Stack(unbundledApp(), 'S');
    // WHEN / THEN
    expect(
      () =>
        new ProjectFunction(stack, 'Fn', {
          entry: path.join(LAMBDA_ROOT, 'shared', 'handler.ts'),
          runtime: Runtime.NODEJS_20_X,
        }),
    ).toThrow(
      /ProjectFunction S\/Fn: 2 invalid prop\(s\):\n {2}- entry must be lambda\/<folder>\/index\.ts of this project \(.*stop-tasks.*\), got .*shared\/handler\.ts\n {2}- runtime must be nodejs22\.x \(the shared bundle targets it\), got nodejs20\.x/,
    );
  });

  test('every folder of lambda/ with an index.ts is an entry of the shared bundle', () => {
    // WHEN
    const entries = projectEntries();
    // THEN
    for (const name of [...CHAOS_FUNCTION_NAMES, 'gameday-observe', 'gameday-reporter']) {
      expect(entries[name]).toBe(entry(name));
    }
    expect(entries).not.toHaveProperty('shared');
    expect(entries).not.toHaveProperty('gameday-shared');
  });
});

describe('the bundle cache between synths', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'bundle-cache-test-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('copies the kept bundle while no input changed, and runs esbuild again once one did', () => {
    // GIVEN one function and an empty cache
    const source = path.join(work, 'fn', 'index.ts');
    mkdirSync(path.dirname(source), { recursive: true });
    writeFileSync(source, "export const handler = () => 'first';\n");
    const options = { entries: { fn: source }, cacheDir: path.join(work, 'cache') };
    const bundle = (name: string) => {
      const outdir = path.join(work, name);
      const { cached } = bundleProject(outdir, options);
      return { cached, code: readFileSync(path.join(outdir, 'fn.mjs'), 'utf8') };
    };
    // WHEN bundled twice, then after an edit
    const first = bundle('out-1');
    const second = bundle('out-2');
    writeFileSync(source, "export const handler = () => 'second';\n");
    const third = bundle('out-3');
    // THEN
    expect(first.cached).toBe(false);
    expect(first.code).toContain('first');
    expect(second).toEqual({ cached: true, code: first.code });
    expect(third.cached).toBe(false);
    expect(third.code).toContain('second');
  });
});

describe('the shared bundle, as synthesized', () => {
  let outdir: string | undefined;
  let server: Server | undefined;

  afterAll(async () => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  test('two stacks deploy one asset, bundled once; its functions load and answer (invalid events refused, the canary probes loopback)', async () => {
    // GIVEN an app that bundles, with functions in two regions' stacks
    const app = new App();
    const east = new Stack(app, 'East', { env: { region: 'us-east-1' } });
    const west = new Stack(app, 'West', { env: { region: 'eu-west-1' } });
    // WHEN
    const { result: assembly, bundledAssets } = countingBundlingLines(() => {
      new ProjectFunction(east, 'StopTasks', { entry: entry('stop-tasks') });
      new ProjectFunction(east, 'Canary', { entry: entry('canary') });
      new ProjectFunction(west, 'Restore', { entry: entry('restore') });
      return app.synth();
    });
    outdir = assembly.directory;
    // THEN one bundle, one asset for all three functions
    expect(bundledAssets).toBe(1);
    const keys = [east, west].flatMap((stack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).map(
        (r) => (r as { Properties: { Code: { S3Key: unknown } } }).Properties.Code.S3Key,
      ),
    );
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    const assetDir = path.join(outdir, `asset.${String(keys[0]).replace(/\.zip$/, '')}`);
    // AND it holds one self-contained file per function: nothing else, and no file imports another
    const files = Object.keys(projectEntries()).map((name) => `${name}.mjs`);
    expect(readdirSync(assetDir).sort()).toEqual([...files].sort());
    for (const file of files) {
      expect(readFileSync(path.join(assetDir, file), 'utf8')).not.toMatch(/from\s*["']\.{1,2}\//);
    }

    // AND each function of the asset loads in a fresh Node process and runs its handler
    server = createServer((_req, res) => res.end('{"status":"ready"}'));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health/ready`;
    const results = await runInBundle(assetDir, {
      AWS_REGION: 'eu-west-1',
      CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:111111111111:cluster/c',
      SERVICE_ARN: 'arn:aws:ecs:eu-west-1:111111111111:service/c/s',
      FAULTS_PARAMETER: '/faults',
      REGION_IMPAIRED_ALARM: 'impaired',
      STATE_TABLE: 'state',
      TARGET_GROUP_ARNS: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/t/1',
      CANARY_TARGETS: JSON.stringify([{ name: 'eu-west-1', url }]),
      HEALTH_TOKEN: '"status":"ready"',
    });
    for (const name of Object.keys(projectEntries())) {
      expect(results.loaded).toContain(name);
    }
    for (const name of GUARDED) {
      expect(results.answers[name]).toMatchObject({ ok: false, error: { code: 'INVALID_EVENT' } });
    }
    expect(results.answers.canary).toMatchObject({
      results: [{ name: 'eu-west-1', ok: true }],
    });
  });
});

interface BundleRun {
  readonly loaded: string[];
  readonly answers: Record<string, unknown>;
}

/**
 * Imports every `<folder>.mjs` of the bundle in a fresh Node process with the given environment
 * (no AWS credentials: nothing may call AWS), then calls the guarded functions with an event
 * that has no experimentId and the canary with an empty event.
 */
async function runInBundle(dir: string, env: Record<string, string>): Promise<BundleRun> {
  const script = `
    const dir = process.argv[1];
    const names = JSON.parse(process.argv[2]);
    const guarded = JSON.parse(process.argv[3]);
    const context = { awsRequestId: 'req-1', functionName: 'f', functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111111111111:function:f', memoryLimitInMB: '256',
      getRemainingTimeInMillis: () => 30000 };
    const loaded = [];
    const answers = {};
    for (const name of names) {
      const mod = await import(dir + '/' + name + '.mjs');
      if (typeof mod.handler === 'function') loaded.push(name);
      if (guarded.includes(name)) answers[name] = await mod.handler({ dryRun: true }, context);
      if (name === 'canary') answers[name] = await mod.handler({}, context);
    }
    process.stdout.write('\\nRESULT ' + JSON.stringify({ loaded, answers }) + '\\n');
  `;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      script,
      dir,
      JSON.stringify(Object.keys(projectEntries())),
      JSON.stringify(GUARDED),
    ],
    {
      env: { PATH: process.env.PATH ?? '', POWERTOOLS_SERVICE_NAME: 'bundle-test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || line === undefined)
    throw new Error(`the bundle failed (exit ${code}):\n${out}`);
  return JSON.parse(line.slice('RESULT '.length)) as BundleRun;
}
