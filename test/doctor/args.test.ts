import { parseDoctorArgs, UsageError } from '../../lib/doctor/args';

function usageErrorOf(argv: string[]): string {
  try {
    parseDoctorArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) return error.message;
    throw error;
  }
  throw new Error(`no UsageError for ${argv.join(' ')}`);
}

describe('the doctor’s flags', () => {
  test.each([
    [['--config', 'examples/production.json']],
    [['--config=examples/production.json']],
    [['-c', 'config=examples/production.json']],
    [['--context', 'config=examples/production.json']],
  ])('read the config file from %j, as cdk synth takes it', (argv) => {
    // WHEN
    const args = parseDoctorArgs(argv);
    // THEN
    expect(args).toEqual({ configPath: 'examples/production.json', help: false });
  });

  test('default to no config file and no help', () => {
    expect(parseDoctorArgs([])).toEqual({ configPath: undefined, help: false });
    expect(parseDoctorArgs(['-h']).help).toBe(true);
  });

  test.each([
    [
      ['--offline'],
      'unknown argument "--offline"; allowed are --config <file>, -c config=<file> and --help',
    ],
    [
      ['--config'],
      '--config needs a file name; allowed are --config <file>, -c config=<file> and --help',
    ],
    [
      ['-c', 'stage=prod'],
      '-c stage=prod: the doctor reads only config=<file>; allowed are --config <file>, -c config=<file> and --help',
    ],
    [
      ['--config', 'a.json', '-c', 'config=b.json'],
      'two config files given (a.json and b.json); give one',
    ],
  ])('refuse %j, saying what is allowed', (argv, message) => {
    expect(usageErrorOf(argv)).toBe(message);
  });
});
