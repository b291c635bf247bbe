import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, DEFAULT_CONFIG } from '../lib/config';
import { loadConfig, resolveConfig } from '../lib/load-config';

/** Resolves `overrides` and returns the problem lines it was refused with (none when valid). */
function problemsOf(overrides: unknown): readonly string[] {
  try {
    resolveConfig(overrides);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const threeAzs = (region: string) => ['a', 'b', 'c'].map((l) => `${region}${l}`);

describe('resolveConfig with no overrides', () => {
  test('deploys three regions with three AZs each, homed in us-east-1', () => {
    // WHEN
    const config = resolveConfig({});
    // THEN
    expect(config.regions.map((r) => r.region)).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-northeast-1',
    ]);
    for (const region of config.regions) {
      expect(region.availabilityZones).toHaveLength(3);
      expect(region.geoproximityBias).toBe(0);
    }
    expect(config.homeRegion).toBe('us-east-1');
    expect(config.account).toBeUndefined();
    expect(config.domain).toBeUndefined();
  });

  test('ejects a bad target within 15 seconds and matches the readiness token', () => {
    const { healthCheck } = resolveConfig({});
    expect(healthCheck.albIntervalSeconds * healthCheck.albUnhealthyThreshold).toBeLessThanOrEqual(
      15,
    );
    expect(healthCheck.token).toBe('"status":"ready"');
  });

  test('replicates the site to the first region outside us-east-1', () => {
    expect(resolveConfig({}).site).toEqual({ originFailover: true, failoverRegion: 'eu-west-1' });
  });
});

describe('resolveConfig with valid overrides', () => {
  test('merges a partial section over the defaults field by field', () => {
    // GIVEN
    const overrides = { sizing: { maxTasks: 20 }, healthCheck: { route53FailureThreshold: 2 } };
    // WHEN
    const config = resolveConfig(overrides);
    // THEN
    expect(config.sizing).toEqual({ ...DEFAULT_CONFIG.sizing, maxTasks: 20 });
    expect(config.healthCheck.route53FailureThreshold).toBe(2);
    expect(config.healthCheck.albIntervalSeconds).toBe(
      DEFAULT_CONFIG.healthCheck.albIntervalSeconds,
    );
  });

  test('replaces the region list whole and defaults each bias to 0', () => {
    const config = resolveConfig({
      homeRegion: 'eu-west-1',
      regions: [
        { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] },
        {
          region: 'eu-central-1',
          availabilityZones: threeAzs('eu-central-1'),
          geoproximityBias: -20,
        },
      ],
    });
    expect(config.regions).toEqual([
      { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'], geoproximityBias: 0 },
      {
        region: 'eu-central-1',
        availabilityZones: threeAzs('eu-central-1'),
        geoproximityBias: -20,
      },
    ]);
  });

  test('fills the domain record names and strips a trailing dot from the zone', () => {
    const config = resolveConfig({
      domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com.' },
    });
    expect(config.domain).toEqual({
      hostedZoneId: 'Z0123456789ABC',
      zoneName: 'example.com',
      apiRecordName: 'api',
      siteRecordName: 'www',
    });
  });

  test('leaves the failover region unset when origin failover is off', () => {
    expect(resolveConfig({ site: { originFailover: false } }).site).toEqual({
      originFailover: false,
    });
  });
});

// One case per validation rule: the override, the field the message must name, and words that
// say what is allowed.
const invalidCases: [string, unknown, string, string][] = [
  [
    'an unknown region',
    {
      regions: [{ region: 'us-mars-1', availabilityZones: ['us-mars-1a', 'us-mars-1b'] }],
      homeRegion: 'us-mars-1',
    },
    'regions[0].region',
    'unknown region "us-mars-1"; allowed regions are',
  ],
  [
    'a duplicate region',
    {
      regions: [
        { region: 'us-east-1', availabilityZones: threeAzs('us-east-1') },
        { region: 'us-east-1', availabilityZones: threeAzs('us-east-1') },
      ],
    },
    'regions[1].region',
    'duplicate region "us-east-1"',
  ],
  [
    'an AZ of another region',
    { regions: [{ region: 'us-east-1', availabilityZones: ['us-east-1a', 'eu-west-1b'] }] },
    'regions[0].availabilityZones[1]',
    '"eu-west-1b" is not an availability zone of us-east-1',
  ],
  [
    'fewer than 2 AZs',
    { regions: [{ region: 'us-east-1', availabilityZones: ['us-east-1a'] }] },
    'regions[0].availabilityZones',
    'must list at least 2 availability zone names',
  ],
  [
    'a duplicate AZ',
    { regions: [{ region: 'us-east-1', availabilityZones: ['us-east-1a', 'us-east-1a'] }] },
    'regions[0].availabilityZones[1]',
    'duplicate availability zone "us-east-1a"',
  ],
  ['an empty region list', { regions: [] }, 'regions', 'must be a non-empty list of regions'],
  [
    'a bias above 99',
    {
      regions: [
        { region: 'us-east-1', availabilityZones: threeAzs('us-east-1'), geoproximityBias: 100 },
      ],
    },
    'regions[0].geoproximityBias',
    'must be an integer from -99 to 99, got 100',
  ],
  [
    'a bias below -99',
    {
      regions: [
        { region: 'us-east-1', availabilityZones: threeAzs('us-east-1'), geoproximityBias: -100 },
      ],
    },
    'regions[0].geoproximityBias',
    'must be an integer from -99 to 99, got -100',
  ],
  [
    'a home region that is not configured',
    { homeRegion: 'us-west-2' },
    'homeRegion',
    'must be one of the configured regions (us-east-1, eu-west-1, ap-northeast-1), got "us-west-2"',
  ],
  [
    'min tasks above desired',
    { sizing: { minTasks: 4 } },
    'sizing.minTasks',
    '4 is more than sizing.desiredTasks 3; need min <= desired',
  ],
  [
    'desired tasks above max',
    { sizing: { desiredTasks: 13 } },
    'sizing.desiredTasks',
    '13 is more than sizing.maxTasks 12; need desired <= max',
  ],
  [
    'zero tasks',
    { sizing: { minTasks: 0 } },
    'sizing.minTasks',
    'must be an integer from 1 to 1000 (tasks), got 0',
  ],
  [
    'a CPU size Fargate lacks',
    { sizing: { taskCpu: 384 } },
    'sizing.taskCpu',
    'must be one of 256, 512, 1024, 2048, 4096, 8192, 16384, got 384',
  ],
  [
    'memory Fargate does not pair with the CPU',
    { sizing: { taskCpu: 256, taskMemoryMiB: 4096 } },
    'sizing.taskMemoryMiB',
    '4096 MiB is not offered by Fargate with taskCpu 256; allowed are 512-2048 MiB in steps of 512',
  ],
  [
    'a malformed cache node type',
    { sizing: { cacheNodeType: 't4g.micro' } },
    'sizing.cacheNodeType',
    'must be an ElastiCache node type such as "cache.t4g.micro", got "t4g.micro"',
  ],
  [
    'an ALB interval below 5 s',
    { healthCheck: { albIntervalSeconds: 2 } },
    'healthCheck.albIntervalSeconds',
    'must be an integer from 5 to 300 (seconds), got 2',
  ],
  [
    'an ALB interval above 300 s',
    { healthCheck: { albIntervalSeconds: 301 } },
    'healthCheck.albIntervalSeconds',
    'must be an integer from 5 to 300 (seconds), got 301',
  ],
  [
    'an ALB timeout below 2 s',
    { healthCheck: { albTimeoutSeconds: 1 } },
    'healthCheck.albTimeoutSeconds',
    'must be an integer from 2 to 120 (seconds), got 1',
  ],
  [
    'an ALB timeout not below the interval',
    { healthCheck: { albIntervalSeconds: 10, albTimeoutSeconds: 10 } },
    'healthCheck.albTimeoutSeconds',
    '10 s must be less than healthCheck.albIntervalSeconds 10 s',
  ],
  [
    'a healthy threshold of 1',
    { healthCheck: { albHealthyThreshold: 1 } },
    'healthCheck.albHealthyThreshold',
    'must be an integer from 2 to 10 (checks), got 1',
  ],
  [
    'an unhealthy threshold of 11',
    { healthCheck: { albUnhealthyThreshold: 11 } },
    'healthCheck.albUnhealthyThreshold',
    'must be an integer from 2 to 10 (checks), got 11',
  ],
  [
    'a Route 53 failure threshold of 0',
    { healthCheck: { route53FailureThreshold: 0 } },
    'healthCheck.route53FailureThreshold',
    'must be an integer from 1 to 10 (checks), got 0',
  ],
  [
    'a Route 53 failure threshold of 11',
    { healthCheck: { route53FailureThreshold: 11 } },
    'healthCheck.route53FailureThreshold',
    'must be an integer from 1 to 10 (checks), got 11',
  ],
  [
    'an interval given as a string',
    { healthCheck: { albIntervalSeconds: '5' } },
    'healthCheck.albIntervalSeconds',
    'must be an integer from 5 to 300 (seconds), got "5"',
  ],
  [
    'an empty health token',
    { healthCheck: { token: '' } },
    'healthCheck.token',
    'printable ASCII text of 1-255 characters',
  ],
  [
    'a malformed e-mail',
    { alarmEmail: 'oncall-at-example.com' },
    'alarmEmail',
    'must be an e-mail address such as "oncall@example.com", got "oncall-at-example.com"',
  ],
  [
    'an unknown top-level key',
    { regoins: [] },
    'regoins',
    'unknown key; allowed keys here are projectName, account, homeRegion, regions',
  ],
  [
    'an unknown nested key',
    { healthCheck: { albIntervalSecond: 5 } },
    'healthCheck.albIntervalSecond',
    'unknown key; allowed keys here are albIntervalSeconds',
  ],
  [
    'an unknown key in a region',
    { regions: [{ region: 'us-east-1', availabilityZones: threeAzs('us-east-1'), bias: 5 }] },
    'regions[0].bias',
    'unknown key; allowed keys here are region, availabilityZones, geoproximityBias',
  ],
  ['a section that is not an object', { sizing: 3 }, 'sizing', 'must be an object, got 3'],
  ['a config that is not an object', [1, 2], 'config', 'must be a JSON object, got [1,2]'],
  [
    'an account that is not 12 digits',
    { account: '1234' },
    'account',
    'must be a 12-digit AWS account id, got "1234"',
  ],
  [
    'a project name with spaces',
    { projectName: 'my app' },
    'projectName',
    'must be a letter followed by up to 29 letters, digits or hyphens',
  ],
  [
    'a hosted zone id of the wrong form',
    { domain: { hostedZoneId: 'abc', zoneName: 'example.com' } },
    'domain.hostedZoneId',
    'must be a Route 53 hosted zone id such as',
  ],
  [
    'a domain without a zone name',
    { domain: { hostedZoneId: 'Z0123456789ABC' } },
    'domain.zoneName',
    'is required with a domain',
  ],
  [
    'a zone name that is not a DNS name',
    { domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'Example_com' } },
    'domain.zoneName',
    'must be a lower-case DNS name such as "example.com", got "Example_com"',
  ],
  [
    'a chaos share above 1',
    { chaos: { maxTaskShare: 1.5 } },
    'chaos.maxTaskShare',
    'must be a number above 0 and at most 1, got 1.5',
  ],
  [
    'a fault duration cap of 0',
    { chaos: { maxFaultDurationMinutes: 0 } },
    'chaos.maxFaultDurationMinutes',
    'must be an integer from 1 to 720 (minutes), got 0',
  ],
  [
    'chaos switched with a string',
    { chaos: { enabled: 'yes' } },
    'chaos.enabled',
    'must be true or false, got "yes"',
  ],
  [
    'an unknown NAT layout',
    { network: { natGateways: 'none' } },
    'network.natGateways',
    'must be "one-per-az" or "single", got "none"',
  ],
  [
    'a WAF rate limit below 10',
    { waf: { requestsPerFiveMinutesPerIp: 5 } },
    'waf.requestsPerFiveMinutesPerIp',
    'must be an integer from 10 to 2000000000 (requests), got 5',
  ],
  [
    'deletion protection as a number',
    { data: { deletionProtection: 0 } },
    'data.deletionProtection',
    'must be true or false, got 0',
  ],
  [
    'a site failover region that is not configured',
    { site: { failoverRegion: 'us-west-2' } },
    'site.failoverRegion',
    'must be a configured region other than us-east-1 (eu-west-1, ap-northeast-1), got "us-west-2"',
  ],
  [
    'site failover with only us-east-1',
    { regions: [{ region: 'us-east-1', availabilityZones: threeAzs('us-east-1') }] },
    'site.originFailover',
    'needs a configured region other than us-east-1',
  ],
];

describe('resolveConfig refuses', () => {
  test.each(invalidCases)(
    '%s, naming the field and what is allowed',
    (_name, overrides, field, words) => {
      // WHEN
      const problems = problemsOf(overrides);
      // THEN
      const line = problems.find((p) => p.startsWith(`${field}: `));
      expect(line).toBeDefined();
      expect(line).toContain(words);
    },
  );

  test('every problem at once, one line each', () => {
    // GIVEN three independent mistakes
    const overrides = {
      healthCheck: { albIntervalSeconds: 2, route53FailureThreshold: 0 },
      alarmEmail: 'nope',
    };
    // WHEN
    const problems = problemsOf(overrides);
    // THEN
    expect(problems).toEqual([
      'healthCheck.albIntervalSeconds: must be an integer from 5 to 300 (seconds), got 2',
      'healthCheck.route53FailureThreshold: must be an integer from 1 to 10 (checks), got 0',
      'alarmEmail: must be an e-mail address such as "oncall@example.com", got "nope"',
    ]);
  });

  test('with a ConfigError whose message counts and lists the problems', () => {
    expect(() => resolveConfig({ sizing: { maxTasks: 0 } }, 'config file x.json')).toThrow(
      'config file x.json has 1 problem:\n  - sizing.maxTasks: must be an integer from 1 to 1000 (tasks), got 0',
    );
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blueprint-config-'));
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  test('returns the defaults when no file is given', () => {
    expect(loadConfig()).toEqual(resolveConfig({}));
  });

  test('reads overrides from a JSON file', () => {
    const path = write('ok.json', JSON.stringify({ projectName: 'Shop' }));
    expect(loadConfig(path).projectName).toBe('Shop');
  });

  test('refuses malformed JSON, naming the file and the syntax error', () => {
    const path = write('bad.json', '{ "sizing": { "maxTasks": 4, } }');
    expect(() => loadConfig(path)).toThrow(ConfigError);
    expect(() => loadConfig(path)).toThrow(
      /config file .*bad\.json has 1 problem:\n {2}- is not valid JSON: /,
    );
  });

  test('refuses a file that does not exist, saying how to pass one', () => {
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(
      /cannot be read \(ENOENT\); pass an existing JSON file with -c config=<path>/,
    );
  });
});
