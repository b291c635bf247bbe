import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'blueprint-cli-'));

/** Runs the real CDK CLI as a newcomer would, with no AWS credentials in the environment. */
function cdkSynth(...extraArgs: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')),
  );
  const outdir = mkdtempSync(join(work, 'out-'));
  const result = spawnSync(
    join(root, 'node_modules', '.bin', 'cdk'),
    ['synth', '--quiet', '--output', outdir, ...extraArgs],
    { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}`, outdir };
}

function writeConfig(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

/** A Node or CDK stack trace line: "    at fn (file:line:col)". */
const STACK_TRACE_LINE = /^\s+at .+[:(]/m;

describe('cdk synth', () => {
  test('writes one template per region plus the Data and Global stacks, and prints the summary', () => {
    // WHEN
    const { status, output, outdir } = cdkSynth();
    // THEN
    expect(status).toBe(0);
    for (const stack of ['Data', 'us-east-1', 'eu-west-1', 'ap-northeast-1', 'Global']) {
      expect(existsSync(join(outdir, `Blueprint-${stack}.template.json`))).toBe(true);
    }
    expect(output).toContain('STACK');
    expect(output).toMatch(/Blueprint-eu-west-1\s+eu-west-1\s+\d+/);
    expect(output).toMatch(/Blueprint-Global\s+us-east-1\s+\d+/);
    // and nothing buries the summary: no line per bundled asset, no esbuild size report
    expect(output).not.toMatch(/^Bundling asset /m);
    expect(output).not.toMatch(/Done in \d+ms/);
    // and every function deploys the one shared bundle
    expect(output).toMatch(/^Bundled 1 Lambda code asset\.$/m);
  });

  test('refuses a config file with bad values, naming every field, with no stack trace', () => {
    // GIVEN one bad value per kind of rule
    const path = writeConfig(
      'bad-values.json',
      JSON.stringify({
        regions: [
          {
            region: 'us-east-1',
            availabilityZones: ['us-east-1a', 'eu-west-1b'],
            geoproximityBias: 120,
          },
          { region: 'us-east-1', availabilityZones: ['us-east-1a'] },
          { region: 'moon-1', availabilityZones: ['moon-1a', 'moon-1b'] },
        ],
        sizing: { minTasks: 5, desiredTasks: 4, maxTasks: 3 },
        healthCheck: {
          albIntervalSeconds: 4,
          albTimeoutSeconds: 200,
          albHealthyThreshold: 1,
          route53FailureThreshold: 11,
        },
        alarmEmail: 'not-an-email',
        chaos: { maxTaskShare: 2 },
        typo: true,
      }),
    );
    // WHEN
    const { status, output } = cdkSynth('-c', `config=${path}`);
    // THEN
    expect(status).not.toBe(0);
    for (const field of [
      'regions[0].availabilityZones[1]',
      'regions[0].geoproximityBias',
      'regions[1].region: duplicate region',
      'regions[1].availabilityZones',
      'regions[2].region: unknown region',
      'sizing.minTasks',
      'sizing.desiredTasks',
      'healthCheck.albIntervalSeconds',
      'healthCheck.albTimeoutSeconds',
      'healthCheck.albHealthyThreshold',
      'healthCheck.route53FailureThreshold',
      'alarmEmail',
      'chaos.maxTaskShare',
      'typo: unknown key',
    ]) {
      expect(output).toContain(field);
    }
    expect(output).not.toMatch(STACK_TRACE_LINE);
  });

  test('refuses malformed JSON, naming the file, with no stack trace', () => {
    const path = writeConfig('malformed.json', '{ "regions": [ }');
    const { status, output } = cdkSynth('-c', `config=${path}`);
    expect(status).not.toBe(0);
    expect(output).toContain(`config file ${path} has 1 problem`);
    expect(output).toContain('is not valid JSON');
    expect(output).not.toMatch(STACK_TRACE_LINE);
  });
});
