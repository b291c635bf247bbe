/**
 * What the shared Lambda bundle carries and what each function loads from it, read from esbuild's
 * metafile of one bundleProject run (the same arguments a synth uses).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { loadedOutputs, type Metafile } from '../../bench/lambda';
import { LAMBDA_ROOT, bundleProject, projectEntries } from '../../lib/constructs/lambda/bundle';

const PROJECT_ROOT = path.join(LAMBDA_ROOT, '..');

/** The SDK's default credential chain, which a function in Lambda never needs past the environment. */
const CREDENTIAL_CHAIN =
  /node_modules\/(@aws-sdk\/(nested-clients|credential-provider-(node|ini|sso|process|web-identity|http|login)|token-providers)|@smithy\/credential-provider-imds)\//;

const work = mkdtempSync(path.join(tmpdir(), 'lambda-bundle-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

let bundled: { readonly metafile: Metafile; readonly inputs: readonly string[] } | undefined;

/** The whole project bundled once, as a synth does, with its metafile. */
function projectBundle() {
  if (bundled) return bundled;
  const metafileFile = path.join(work, 'meta.json');
  bundleProject(path.join(work, 'project'), { metafile: metafileFile });
  const metafile = JSON.parse(readFileSync(metafileFile, 'utf8')) as Metafile & {
    inputs: Record<string, unknown>;
  };
  bundled = { metafile, inputs: Object.keys(metafile.inputs) };
  return bundled;
}

/** Every input a function loads when it starts (its entry and the chunks it imports statically). */
function inputsLoadedBy(name: string): string[] {
  const { metafile } = projectBundle();
  const entryOutput = Object.entries(metafile.outputs).find(
    ([, o]) => o.entryPoint === `lambda/${name}/index.ts`,
  )?.[0];
  if (entryOutput === undefined) throw new Error(`${name} is not an entry of the bundle`);
  return loadedOutputs(metafile, entryOutput).flatMap((output) =>
    Object.keys(metafile.outputs[output].inputs),
  );
}

/** The packages of every input a function loads when it starts. */
function packagesLoadedBy(name: string): Set<string> {
  const packages = new Set<string>();
  for (const input of inputsLoadedBy(name)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) packages.add(match[1]);
  }
  return packages;
}

describe('the shared Lambda bundle', () => {
  test('carries none of the SDK default credential chain (nested STS/SSO clients, ini, SSO, IMDS): Lambda sets the environment credentials', () => {
    // GIVEN every project function, bundled as a synth bundles them
    const { inputs } = projectBundle();
    // THEN no input comes from the default chain beyond the environment
    expect(inputs.filter((input) => CREDENTIAL_CHAIN.test(input))).toEqual([]);
    expect(inputs).toContain('lambda/shared/lambda-credentials.ts');
  });

  test('a bundled SDK client takes the environment credentials, and without them fails naming the missing variables', () => {
    // GIVEN an entry that asks a bundled SSM client for its credentials, bundled with the project's arguments
    const source = path.join(work, 'probe', 'index.ts');
    const ssm = path.join(PROJECT_ROOT, 'node_modules', '@aws-sdk', 'client-ssm');
    rmSync(path.dirname(source), { recursive: true, force: true });
    mkdirSync(path.dirname(source), { recursive: true });
    writeFileSync(
      source,
      `import { SSMClient } from ${JSON.stringify(ssm)};\n` +
        `export const handler = () => new SSMClient({ region: 'eu-west-1' }).config.credentials();\n`,
    );
    const outdir = path.join(work, 'probe-out');
    bundleProject(outdir, { entries: { probe: source }, metafile: path.join(work, 'probe.json') });
    const run = (env: Record<string, string>) =>
      spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const { handler } = await import(process.argv[1]);
           try { console.log('OK ' + JSON.stringify(await handler())); }
           catch (e) { console.log('ERROR ' + e.name + ': ' + e.message); }`,
          path.join(outdir, 'probe.mjs'),
        ],
        { env: { PATH: process.env.PATH ?? '', HOME: work, ...env }, encoding: 'utf8' },
      );

    // WHEN it runs with the variables Lambda sets, then with none
    const withEnv = run({
      AWS_ACCESS_KEY_ID: 'AKIDLAMBDA',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'token',
    });
    const without = run({});

    // THEN the first gets exactly them, the second a clear error naming both missing variables
    expect(withEnv.stdout).toContain(
      'OK {"accessKeyId":"AKIDLAMBDA","secretAccessKey":"secret","sessionToken":"token"',
    );
    expect(without.stdout).toMatch(
      /^ERROR EnvironmentError: no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set/,
    );
  });

  test('zonal-shift loads no EC2 SDK client: its AZ ID lookup is one signed query request', () => {
    // GIVEN every project function, bundled as a synth bundles them
    const loaded = packagesLoadedBy('zonal-shift');
    // THEN
    expect(loaded).not.toContain('@aws-sdk/client-ec2');
    expect(loaded).toContain('@smithy/signature-v4');
  });

  test.each(Object.keys(projectEntries()))(
    '%s loads no AWS SDK client: every AWS call is a signed request of its own (signed-http.ts)',
    (name) => {
      // GIVEN every project function, bundled as a synth bundles them
      // WHEN
      const clients = [...packagesLoadedBy(name)].filter(
        (pkg) => pkg.startsWith('@aws-sdk/client-') || pkg === '@aws-sdk/lib-dynamodb',
      );
      // THEN
      expect(clients).toEqual([]);
    },
  );

  test.each(['bad-deploy', 'edge-health', 'gameday-observe', 'zonal-shift'])(
    '%s, which emits no metrics, does not load Powertools Metrics',
    (name) => {
      expect(packagesLoadedBy(name)).not.toContain('@aws-lambda-powertools/metrics');
      expect(packagesLoadedBy(name)).toContain('@aws-lambda-powertools/logger');
    },
  );

  test.each(['canary', 'deploy-gate', 'gameday-reporter', 'stop-tasks'])(
    '%s, which emits metrics, loads Powertools Metrics',
    (name) => {
      expect(packagesLoadedBy(name)).toContain('@aws-lambda-powertools/metrics');
    },
  );

  test.each([
    ['restore', true],
    ['zonal-shift', true],
    ['stop-tasks', false],
    ['az-outage', false],
    ['latency', false],
    ['empty-responses', false],
    ['cache-outage', false],
    ['region-outage', false],
  ])(
    '%s loads the ARC zonal shift client: %s (only the functions that shift or end shifts)',
    (name, loads) => {
      expect(inputsLoadedBy(name).includes('lambda/shared/zonal-shift-client.ts')).toBe(loads);
    },
  );
});
