import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ROOT } from './support';

const work = mkdtempSync(join(tmpdir(), 'blueprint-doctor-cli-'));

/** A stand-in container runtime, set through CDK_DOCKER as finch or podman would be. */
const FAKE_RUNTIME = join(work, 'fake-runtime');
writeFileSync(
  FAKE_RUNTIME,
  '#!/bin/sh\ncase "$1" in\n  info) echo "Server Version: 28.2.2"; exit 0 ;;\nesac\nexit 1\n',
);
chmodSync(FAKE_RUNTIME, 0o755);

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `tsx scripts/doctor.ts` as `npm run doctor` does, with no AWS credentials anywhere (no
 * variables, no config files, no instance metadata), so no AWS call can leave the machine.
 */
function doctor(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_') && key !== 'CDK_DOCKER'),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'scripts', 'doctor.ts'), ...args],
      {
        cwd: ROOT,
        env: {
          ...base,
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_CONFIG_FILE: join(work, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(work, 'no-aws-credentials'),
          ...env,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A Node or CDK stack trace line: "    at fn (file:line:col)". */
const STACK_TRACE_LINE = /^\s+at .+[:(]/m;
const AWS_CHECK = /^ {2}\w+ +(AWS credentials|[a-z]{2}-[a-z]+-\d )/;

let offline: Run;
let noRuntime: Run;
let badFlag: Run;
let badConfig: Run;

beforeAll(async () => {
  const config = join(work, 'bad.json');
  writeFileSync(config, JSON.stringify({ sizing: { maxTasks: 0 } }));
  [offline, noRuntime, badFlag, badConfig] = await Promise.all([
    doctor([], { CDK_DOCKER: FAKE_RUNTIME }),
    doctor(['-c', 'config=examples/fork-two-regions.json'], {
      CDK_DOCKER: join(work, 'no-such-runtime'),
    }),
    doctor(['--offline']),
    doctor(['--config', config]),
  ]);
}, 180_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('npm run doctor without credentials or network', () => {
  test('runs the local checks and lists every AWS check as skipped, with why', () => {
    // THEN
    const lines = offline.stdout.split('\n');
    for (const title of [
      'Node.js',
      'container runtime',
      'ARM64 image build',
      'CDK CLI and library',
    ]) {
      expect(lines.some((l) => new RegExp(`^ {2}(ok|WARN) +${title} `).test(l))).toBe(true);
    }
    expect(offline.stdout).toMatch(
      /^ {2}ok +CDK CLI and library +CLI \S+ reads library \S+'s cloud assemblies/m,
    );
    const awsLines = lines.filter((l) => AWS_CHECK.test(l));
    // credentials, then bootstrap, AZs + 4 quotas in each of the 3 default regions, then the
    // home region's kept table (CloudFront's title names no region)
    expect(awsLines).toHaveLength(20);
    expect(awsLines.every((l) => l.startsWith('  skip'))).toBe(true);
    expect(offline.stdout).toContain(
      '  - 21 because no AWS credentials were found: AWS credentials, us-east-1 CDK bootstrap,',
    );
    expect(offline.stdout).toContain('To run them, configure credentials');
  });

  test('exits 0 when nothing failed, warnings and skipped checks notwithstanding', () => {
    // THEN
    expect(offline.stdout).not.toMatch(/^ {2}FAIL/m);
    expect(offline.status).toBe(0);
    expect(offline.stderr).toBe('');
  });

  test('exits 1 for a real failure, and still lists what it skipped', () => {
    // THEN
    expect(noRuntime.stdout).toMatch(
      /^ {2}FAIL +container runtime +\S+no-such-runtime \(from CDK_DOCKER\) is not installed/m,
    );
    expect(noRuntime.stdout).toMatch(
      /^ {2}skip +ARM64 image build +not checked: no container runtime answers/m,
    );
    expect(noRuntime.stdout).toContain('project Shop: Shop-Data (eu-west-1)');
    expect(noRuntime.stdout).toContain('Skipped ');
    expect(noRuntime.status).toBe(1);
  });

  test('refuses an unknown flag with exit code 2, the allowed flags and no stack trace', () => {
    // THEN
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('unknown argument "--offline"; allowed are --config <file>');
    expect(badFlag.stderr).toContain('usage: npm run doctor [-- --config <file>]');
    expect(badFlag.stderr).not.toMatch(STACK_TRACE_LINE);
  });

  test('refuses a bad config file with exit code 2, naming the field', () => {
    // THEN
    expect(badConfig.status).toBe(2);
    expect(badConfig.stderr).toContain(
      'sizing.maxTasks: must be an integer from 1 to 1000 (tasks), got 0',
    );
    expect(badConfig.stderr).not.toMatch(STACK_TRACE_LINE);
  });
});
