import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import { App, CloudFormationValidatePlugin, Stack } from 'aws-cdk-lib';
import { CfnSubnet } from 'aws-cdk-lib/aws-ec2';

import {
  CachedCloudFormationValidate,
  installCachedCloudFormationValidate,
} from '../lib/cloudformation-validate-cache';

// Each synth below that is not served from the cache starts the CDK's validation engine (seconds).
jest.setTimeout(180_000);

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

afterEach(() => {
  // Back to the CDK's own default instance, whatever the test installed.
  CloudFormationValidatePlugin._disposeSingleton();
  delete process.env.BLUEPRINT_VALIDATION_CACHE;
  jest.restoreAllMocks();
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/**
 * Synthesizes a one-stack app whose subnet has a malformed VPC id, which CloudFormation Validate
 * reports (E1151, naming the id), with the CDK metadata resource on; returns the template and the
 * validation report without its stack traces (they name the line that called this function).
 */
function synth(vpcId = 'vpc-1') {
  const outdir = tempDir('cfv-out-');
  const app = new App({ outdir, analyticsReporting: true });
  const stack = new Stack(app, 'Subject', {
    env: { account: '123456789012', region: 'us-east-1' },
  });
  new CfnSubnet(stack, 'Subnet', {
    vpcId,
    cidrBlock: '10.0.0.0/24',
    availabilityZone: 'us-east-1a',
  });
  app.synth();
  const read = (file: string) => readFileSync(path.join(outdir, file), 'utf8');
  const report = JSON.stringify(
    JSON.parse(read('validation-report.json'), (key, value: unknown) =>
      key === 'stackTraces' ? undefined : value,
    ),
  );
  return { template: read('Subject.template.json'), report };
}

const engineRuns = () => jest.spyOn(CloudFormationValidatePlugin.prototype, 'validate');

describe('CachedCloudFormationValidate', () => {
  test('reports exactly what the CDK default check reports, from the engine and then from the cache, and leaves the template as it was', () => {
    // GIVEN what the CDK's own default instance gives
    const stock = synth();
    expect(stock.report).toContain('E1151');
    // WHEN the cached check is installed and the same app is synthesized twice
    const plugin = new CachedCloudFormationValidate({ cacheDir: tempDir('cfv-cache-') });
    expect(installCachedCloudFormationValidate(plugin)).toBe(true);
    const runs = engineRuns();
    const first = synth();
    const firstFromCache = plugin.usedKeptReport;
    const second = synth();
    // THEN the first runs the engine, the second does not, and both match the stock output
    expect(firstFromCache).toBe(false);
    expect(plugin.usedKeptReport).toBe(true);
    expect(runs).toHaveBeenCalledTimes(1);
    expect(first.report).toBe(stock.report);
    expect(second.report).toBe(stock.report);
    // Not a registered plugin, so the CDK metadata (Analytics) in the template is unchanged.
    expect(first.template).toBe(stock.template);
    expect(second.template).toBe(stock.template);
  });

  test('a changed template (a stale kept report) is validated again, not answered from the cache', () => {
    // GIVEN a kept report for a subnet in VPC vpc-1
    const plugin = new CachedCloudFormationValidate({ cacheDir: tempDir('cfv-cache-') });
    installCachedCloudFormationValidate(plugin);
    synth('vpc-1');
    const runs = engineRuns();
    // WHEN the template changes
    const changed = synth('vpc-2');
    // THEN the engine runs and the report names the new id only
    expect(runs).toHaveBeenCalledTimes(1);
    expect(plugin.usedKeptReport).toBe(false);
    expect(changed.report).toContain("'vpc-2'");
    expect(changed.report).not.toContain("'vpc-1'");
  });

  test('a torn or corrupt kept report is ignored: the check runs and the synth succeeds', () => {
    // GIVEN a kept report cut off mid-write
    const cacheDir = tempDir('cfv-cache-');
    const plugin = new CachedCloudFormationValidate({ cacheDir });
    installCachedCloudFormationValidate(plugin);
    const expected = synth().report;
    const [kept] = readdirSync(cacheDir);
    const file = path.join(cacheDir, kept);
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    const runs = engineRuns();
    // WHEN
    const again = synth();
    // THEN
    expect(runs).toHaveBeenCalledTimes(1);
    expect(again.report).toBe(expected);
  });

  test('BLUEPRINT_VALIDATION_CACHE=off runs the check every time', () => {
    // GIVEN a kept report
    const plugin = new CachedCloudFormationValidate({ cacheDir: tempDir('cfv-cache-') });
    installCachedCloudFormationValidate(plugin);
    synth();
    process.env.BLUEPRINT_VALIDATION_CACHE = 'off';
    const runs = engineRuns();
    // WHEN
    synth();
    // THEN
    expect(runs).toHaveBeenCalledTimes(1);
    expect(plugin.usedKeptReport).toBe(false);
  });

  test('an unwritable cache directory only costs the next synth its cache hit', () => {
    // GIVEN a cache directory that is a file
    const cacheDir = path.join(tempDir('cfv-cache-'), 'not-a-dir');
    writeFileSync(cacheDir, '');
    installCachedCloudFormationValidate(new CachedCloudFormationValidate({ cacheDir }));
    // WHEN / THEN the synth still reports the finding
    expect(synth().report).toContain('E1151');
  });
});
