import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DEFAULT_RATE, parseCliArgs, UsageError } from '../../gameday/local/args';
import { findBinaries, MissingBinaryError } from '../../gameday/local/binaries';
import { LOCAL_SCENARIO_NAMES, LOCAL_SCENARIOS } from '../../lib/gameday/scenarios';

import { runCli } from './local/run-cli';

/** The command line of npm run gameday:local: what it lists, and how it refuses bad input. */

const ALLOWED_SCENARIOS = LOCAL_SCENARIO_NAMES.join(', ');

function usageError(argv: string[]): string {
  try {
    parseCliArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`parseCliArgs accepted ${argv.join(' ')}`);
}

describe('the gameday:local process', () => {
  test('--list shows every scenario with its title and exits 0', async () => {
    const result = await runCli(['--list'], {}, 30_000);

    expect(result.code).toBe(0);
    for (const name of LOCAL_SCENARIO_NAMES) {
      expect(result.stdout).toContain(`  ${name}`);
      expect(result.stdout).toContain(LOCAL_SCENARIOS[name].title);
    }
  });

  test('an unknown scenario exits 2 with one clear line listing the scenarios, and no stack trace', async () => {
    const result = await runCli(['tsak-loss', '--quick'], {}, 30_000);

    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `gameday:local: unknown scenario 'tsak-loss'; allowed: ${ALLOWED_SCENARIOS}\nRun with --help for usage.\n`,
    );
  });

  test('an unknown flag exits 2 and names the flags allowed', async () => {
    const result = await runCli(['task-loss', '--fast'], {}, 30_000);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "gameday:local: unknown option '--fast'; allowed: --quick, --list, --duration <seconds>, --rate <requests/s>, --out <dir>, --config <file>, --help",
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  test('a config file with a bad health check exits 2 and names the problem', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'gameday-config-'));
    try {
      const config = join(directory, 'config.json');
      await writeFile(config, JSON.stringify({ healthCheck: { albIntervalSeconds: 1 } }));

      const result = await runCli(['latency', '--quick', '--config', config], {}, 30_000);

      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        'healthCheck.albIntervalSeconds: must be an integer from 5 to 300 (seconds), got 1',
      );
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  test('a missing haproxy exits 3 and says how to install it, before anything starts', async () => {
    const result = await runCli(
      ['task-loss', '--quick'],
      { HAPROXY_BIN: '/nonexistent/haproxy' },
      30_000,
    );

    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      "haproxy is not installed: run `sudo apt-get install haproxy` (Debian/Ubuntu) or `bash scripts/install.sh --test` (tried '/nonexistent/haproxy')",
    );
    expect(result.stdout).not.toContain('starting');
  });
});

describe('parseCliArgs', () => {
  test('reads a scenario and every option', () => {
    expect(
      parseCliArgs([
        'zero-length-responder',
        '--quick',
        '--duration',
        '12.5',
        '--rate',
        '40',
        '--out',
        'r',
        '--config',
        'c.json',
      ]),
    ).toEqual({
      help: false,
      list: false,
      scenario: 'zero-length-responder',
      quick: true,
      durationSeconds: 12.5,
      rate: 40,
      outDir: 'r',
      configPath: 'c.json',
    });
  });

  test('defaults to the full run at the default rate, reporting to gameday-report', () => {
    expect(parseCliArgs(['latency'])).toMatchObject({
      quick: false,
      durationSeconds: undefined,
      rate: DEFAULT_RATE,
      outDir: 'gameday-report',
    });
  });

  test('asks for a scenario when none is named', () => {
    expect(usageError(['--quick'])).toBe(`name a scenario; allowed: ${ALLOWED_SCENARIOS}`);
  });

  test('refuses two scenarios at once', () => {
    expect(usageError(['task-loss', 'latency'])).toBe(
      'one scenario at a time, got 2: task-loss latency',
    );
  });

  test('refuses a duration that is not a number of seconds in range', () => {
    expect(usageError(['latency', '--duration', 'ten'])).toBe(
      "--duration must be a number 1-3600, got 'ten'",
    );
    expect(usageError(['latency', '--duration', '0'])).toBe(
      "--duration must be a number 1-3600, got '0'",
    );
  });

  test('refuses a duration for task-loss, which has nothing to restore', () => {
    expect(usageError(['task-loss', '--duration', '30'])).toBe(
      '--duration does not apply to task-loss: nothing is restored, ECS replaces the lost task by itself',
    );
  });

  test('refuses a rate outside 5-1000 requests per second', () => {
    expect(usageError(['latency', '--rate', '2'])).toBe(
      "--rate must be an integer 5-1000, got '2'",
    );
    expect(usageError(['latency', '--rate', '10.5'])).toBe(
      "--rate must be an integer 5-1000, got '10.5'",
    );
  });

  test('says which option lacks its value', () => {
    expect(usageError(['latency', '--rate'])).toMatch(/^--rate needs a value; allowed: --quick/);
  });
});

describe('findBinaries', () => {
  test('names every missing program with its install command', () => {
    // GIVEN neither haproxy nor memcached can be found
    const env = { HAPROXY_BIN: '/nonexistent/haproxy', MEMCACHED_BIN: '/nonexistent/memcached' };
    // WHEN / THEN
    expect(() => findBinaries(env)).toThrow(MissingBinaryError);
    expect(() => findBinaries(env)).toThrow(
      [
        "haproxy is not installed: run `sudo apt-get install haproxy` (Debian/Ubuntu) or `bash scripts/install.sh --test` (tried '/nonexistent/haproxy')",
        "memcached is not installed: run `sudo apt-get install memcached` (Debian/Ubuntu) or `bash scripts/install.sh --test` (tried '/nonexistent/memcached')",
      ].join('\n'),
    );
  });

  test('reports the versions of the programs it found', () => {
    const found = findBinaries({});
    expect(found.haproxy).toBe('haproxy');
    expect(found.haproxyVersion).toMatch(/^HAProxy \d+\.\d+/);
    expect(found.memcachedVersion).toMatch(/^memcached \d+\.\d+/);
  });
});
