import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI path of a bad config, through bin/app.ts's error handling: a few subprocess runs (each
 * loads the CDK), one of them through the real `cdk synth`.
 */
const root = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'blueprint-config-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A Node or CDK stack trace line: "    at fn (file:line:col)". */
const STACK_TRACE_LINE = /^\s+at .+[:(]/m;

function offlineEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_'))),
    ...extra,
  };
}

function writeConfig(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** Runs the app as the CDK CLI does, with the context in CDK_CONTEXT_JSON. */
function runApp(context: Record<string, unknown>, outdir = join(work, 'out')) {
  const result = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['bin/app.ts'], {
    cwd: root,
    env: offlineEnv({ CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir }),
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('a bad config on the command line', () => {
  test('cdk synth refuses duplicate keys, naming the key and its lines, with no stack trace', () => {
    // GIVEN a file whose second sizing block JSON.parse would keep, dropping the first
    const path = writeConfig(
      'duplicate.json',
      '{\n  "sizing": { "maxTasks": 20 },\n  "sizing": { "minTasks": 3 }\n}\n',
    );
    // WHEN
    const result = spawnSync(
      join(root, 'node_modules', '.bin', 'cdk'),
      ['synth', '--quiet', '--output', join(work, 'cdk.out'), '-c', `config=${path}`],
      { cwd: root, env: offlineEnv(), encoding: 'utf8', timeout: 120_000 },
    );
    const output = `${result.stdout}${result.stderr}`;
    // THEN
    expect(result.status).not.toBe(0);
    expect(output).toContain(
      `config file ${path} has 1 problem:\n  - is not valid JSON: duplicate key "sizing" (first at line 2, column 3)`,
    );
    expect(output).toContain('at line 3, column 3');
    expect(output).not.toMatch(STACK_TRACE_LINE);
  });

  test.each([
    [
      'values two constructs used to throw on (a token of spaces, a one-letter TLD)',
      () => ({
        config: writeConfig(
          'constructs.json',
          JSON.stringify({
            healthCheck: { token: '   ' },
            domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.c' },
          }),
        ),
      }),
      [
        'healthCheck.token: must not start or end with white space',
        'domain.zoneName: must end in a top-level domain',
      ],
    ],
    [
      'deeply nested junk',
      () => ({
        config: writeConfig('deep.json', `{"regions": ${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
      }),
      ['is not valid JSON: nesting deeper than 32 levels at line 1, column'],
    ],
    [
      'bytes that are not UTF-8',
      () => ({ config: writeConfig('latin1.json', Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d])) }),
      ['is not valid UTF-8: byte 0xe9 at line 1, column 3'],
    ],
    [
      'a config context that is not a string',
      () => ({ config: 5 }),
      ['the config context value has 1 problem:', 'must be the path of a JSON file', 'got 5'],
    ],
  ])(
    'the app refuses %s with a message and no stack trace',
    (_name, context, expected) => {
      // WHEN
      const { status, output } = runApp(context());
      // THEN
      expect(status).toBe(1);
      for (const words of expected) expect(output).toContain(words);
      expect(output).not.toMatch(STACK_TRACE_LINE);
    },
    120_000,
  );

  test('a failure past validation prints its message and how to get the trace, not the trace', () => {
    // GIVEN a valid config, but an output directory that cannot be created (under a file)
    const file = writeConfig('not-a-directory', 'x');
    // WHEN
    const { status, output } = runApp({}, join(file, 'cdk.out'));
    // THEN
    expect(status).toBe(1);
    expect(output).toContain('Synth failed: ');
    expect(output).toContain('ENOTDIR');
    expect(output).toContain('Run `npx cdk synth --debug` for the stack trace.');
    expect(output).not.toMatch(STACK_TRACE_LINE);
  }, 180_000);
});
