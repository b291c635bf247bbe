import { bootstrapTargets, parseBootstrapArgs } from '../lib/bootstrap-targets';
import { loadConfig, resolveConfig } from '../lib/load-config';

describe('bootstrapTargets', () => {
  test('lists each configured region and adds us-east-1 for the Global stack', () => {
    // GIVEN the two-region example, which has no us-east-1 region
    const config = loadConfig('examples/fork-two-regions.json');
    // THEN
    expect(bootstrapTargets(config)).toEqual(['eu-west-1', 'eu-central-1', 'us-east-1']);
  });

  test('lists us-east-1 once when it is a configured region, as environments with an account', () => {
    const config = loadConfig('examples/production.json');
    expect(bootstrapTargets(config, '012345678901')).toEqual([
      'aws://012345678901/us-east-1',
      'aws://012345678901/eu-west-1',
      'aws://012345678901/ap-southeast-2',
    ]);
  });

  test('follows the defaults when no config is given', () => {
    expect(bootstrapTargets(resolveConfig({}))).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-northeast-1',
    ]);
  });
});

describe('parseBootstrapArgs', () => {
  test('takes --config and --account', () => {
    expect(parseBootstrapArgs(['--config', 'my.json', '--account', '012345678901'])).toEqual({
      configPath: 'my.json',
      account: '012345678901',
    });
  });

  test.each([
    [
      ['--acount', '1'],
      'unknown option or missing value at "--acount"; allowed: --config <file>, --account <12 digits>',
    ],
    [['--config'], 'unknown option or missing value at "--config"'],
    [['--account', '$ACCOUNT'], '--account must be 12 digits, got "$ACCOUNT"'],
  ])('refuses %j, saying what is allowed', (argv, message) => {
    expect(() => parseBootstrapArgs(argv)).toThrow(message);
  });
});
