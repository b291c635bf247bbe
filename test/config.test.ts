import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import fc from 'fast-check';

import { ConfigError, DEFAULT_CONFIG } from '../lib/config';
import { configPathFromContext, loadConfig, resolveConfig } from '../lib/load-config';
import {
  ConfigError as ServiceConfigError,
  loadConfig as loadServiceConfig,
} from '../service/src/config';

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

  test('leaves zonal autoshift off', () => {
    expect(resolveConfig({}).zonalShift).toEqual({ autoshift: false });
  });

  test('replicates the site to the first region outside us-east-1', () => {
    expect(resolveConfig({}).site).toEqual({ originFailover: true, failoverRegion: 'eu-west-1' });
  });

  test('deploys by canary: 10% for 5 minutes, a 10-minute bake, the test listener on 9000', () => {
    expect(resolveConfig({}).deployment).toEqual({
      strategy: 'canary',
      canaryPercent: 10,
      linearStepPercent: 10,
      stepBakeTimeMinutes: 5,
      bakeTimeMinutes: 10,
      testListenerPort: 9000,
    });
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

  test('turns zonal autoshift on when asked', () => {
    expect(resolveConfig({ zonalShift: { autoshift: true } }).zonalShift.autoshift).toBe(true);
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
    'must not be empty: an empty token would let an empty 200 pass',
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
    'must be a lower-case DNS name such as "example.com" (labels of a-z, 0-9 and inner hyphens), got "Example_com"',
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
    'an unknown deployment strategy',
    { deployment: { strategy: 'blue-green' } },
    'deployment.strategy',
    'must be "canary" or "linear", got "blue-green"',
  ],
  [
    'a canary share that is not a multiple of 0.1',
    { deployment: { canaryPercent: 2.55 } },
    'deployment.canaryPercent',
    'must be a percentage from 0.1 to 100 in steps of 0.1, got 2.55',
  ],
  [
    'a canary share of 0',
    { deployment: { canaryPercent: 0 } },
    'deployment.canaryPercent',
    'must be a percentage from 0.1 to 100 in steps of 0.1, got 0',
  ],
  [
    'a linear step below the 3% ECS allows',
    { deployment: { strategy: 'linear', linearStepPercent: 2 } },
    'deployment.linearStepPercent',
    'must be a percentage from 3 to 100 in steps of 0.1, got 2',
  ],
  [
    'a step bake time beyond a day',
    { deployment: { stepBakeTimeMinutes: 1441 } },
    'deployment.stepBakeTimeMinutes',
    'must be an integer from 0 to 1440 (minutes), got 1441',
  ],
  [
    'a fractional bake time',
    { deployment: { bakeTimeMinutes: 2.5 } },
    'deployment.bakeTimeMinutes',
    'must be an integer from 0 to 1440 (minutes), got 2.5',
  ],
  [
    'a test listener port above 65535',
    { deployment: { testListenerPort: 70000 } },
    'deployment.testListenerPort',
    'must be an integer from 1 to 65535 (TCP port), got 70000',
  ],
  [
    'a test listener on the production HTTPS port',
    { deployment: { testListenerPort: 443 } },
    'deployment.testListenerPort',
    'must not be 443: the production listeners use 80 and 443; pick another port such as 9000',
  ],
  [
    'an unknown deployment key',
    { deployment: { circuitBreaker: true } },
    'deployment.circuitBreaker',
    'unknown key; allowed keys here are strategy, canaryPercent, linearStepPercent, stepBakeTimeMinutes, bakeTimeMinutes, testListenerPort',
  ],
  [
    'ECS network faults switched with a string',
    { chaos: { ecsNetworkFaults: 'on' } },
    'chaos.ecsNetworkFaults',
    'must be true or false, got "on"',
  ],
  [
    'ECS network faults with chaos off (they start only through the chaos guard)',
    { chaos: { enabled: false, ecsNetworkFaults: true } },
    'chaos.ecsNetworkFaults',
    'needs chaos.enabled true (the templates start only through the chaos guard); set chaos.enabled to true or ecsNetworkFaults to false',
  ],
  [
    'ECS network faults with a 1-minute fault cap (no room for the reservation)',
    { chaos: { maxFaultDurationMinutes: 1, ecsNetworkFaults: true } },
    'chaos.ecsNetworkFaults',
    "needs chaos.maxFaultDurationMinutes of at least 2 (a fault of 1 minute plus the reservation's minute), got 1",
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
    'zonal autoshift switched with a string',
    { zonalShift: { autoshift: 'on' } },
    'zonalShift.autoshift',
    'must be true or false, got "on"',
  ],
  [
    'an unknown zonal shift key',
    { zonalShift: { practiceRuns: true } },
    'zonalShift.practiceRuns',
    'unknown key; allowed keys here are autoshift',
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

describe('a config that synthesizes deploys: resolveConfig refuses what a later step would', () => {
  // Each of these synthesized before and failed at deploy or at the service's start.
  const domain = { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' };
  const deployCases: [string, unknown, string, string][] = [
    [
      'a token of spaces (the chaos construct trimmed it to nothing)',
      { healthCheck: { token: '   ' } },
      'healthCheck.token',
      'must not start or end with white space (the service trims its environment), got "   "',
    ],
    [
      'a token over 200 characters (the service refuses it at start)',
      { healthCheck: { token: 'a'.repeat(201) } },
      'healthCheck.token',
      'must be at most 200 characters, got 201',
    ],
    [
      'a token with quotes (the ready body would escape them)',
      { healthCheck: { token: 'say "ready"' } },
      'healthCheck.token',
      'must be "status":"ready" or plain text without quotes, backslashes or control characters, got "say \\"ready\\""',
    ],
    [
      'a token with a backslash',
      { healthCheck: { token: 'ready\\now' } },
      'healthCheck.token',
      'without quotes, backslashes or control characters',
    ],
    [
      'a token that is not ASCII',
      { healthCheck: { token: 'prêt' } },
      'healthCheck.token',
      'must be ASCII text (Route 53 matches the body byte for byte), got "pr\\u00eat"',
    ],
    [
      'the API and the site on the same record',
      { domain: { ...domain, apiRecordName: 'app', siteRecordName: 'app' } },
      'domain.siteRecordName',
      '"app" is also domain.apiRecordName; the site and the API need different records',
    ],
    [
      'the site record defaulting onto the API record',
      { domain: { ...domain, apiRecordName: 'www' } },
      'domain.siteRecordName',
      '"www" is also domain.apiRecordName',
    ],
    [
      'a project named AWS (reserved SSM and metrics prefixes)',
      { projectName: 'AWS' },
      'projectName',
      'must not start with "aws", "amazon" or "ssm" in any case: it prefixes the SSM parameter /AWS/faults',
    ],
    ['a project starting with ssm', { projectName: 'ssmShop' }, 'projectName', 'must not start'],
    ['a project starting with aws', { projectName: 'aws-shop' }, 'projectName', 'must not start'],
    [
      'a one-letter top-level domain (the routing construct refused it)',
      { domain: { ...domain, zoneName: 'example.c' } },
      'domain.zoneName',
      'must end in a top-level domain of 2-63 letters, such as "com" (IDN top-level domains in xn-- form are not supported), got "example.c"',
    ],
    [
      'an IDN top-level domain',
      { domain: { ...domain, zoneName: 'example.xn--p1ai' } },
      'domain.zoneName',
      'must end in a top-level domain of 2-63 letters',
    ],
    [
      'a site name longer than a certificate takes',
      { domain: { ...domain, zoneName: `${'a'.repeat(60)}.com` } },
      'domain.siteRecordName',
      `is 68 characters; its certificate allows at most 64`,
    ],
  ];

  test.each(deployCases)('%s', (_name, overrides, field, words) => {
    // WHEN
    const line = problemsOf(overrides).find((p) => p.startsWith(`${field}: `));
    // THEN
    expect(line).toContain(words);
  });

  test('the CDK config and the service take exactly the same health tokens', () => {
    // GIVEN any token the service could be given (it trims its environment and reads an empty
    // value as the default, so those are not the same token on both sides)
    const serviceProblems = (token: string) => {
      try {
        loadServiceConfig({
          AWS_REGION: 'eu-west-1',
          TABLE_NAME: 'catalog',
          MEMCACHED_ENDPOINTS: 'localhost:11211',
          FAULTS_FILE: '/tmp/faults.json',
          HEALTH_TOKEN: token,
        });
        return [];
      } catch (error) {
        if (error instanceof ServiceConfigError) return error.problems;
        throw error;
      }
    };
    const token = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 210 }),
      fc.string({ unit: fc.constantFrom('a', ' ', '"', '\\', '\n', 'é', ':'), maxLength: 8 }),
      fc.constant('x'.repeat(200)),
      fc.constant('x'.repeat(201)),
    );
    fc.assert(
      fc.property(
        token.filter((t) => t !== '' && t.trim() === t),
        (t) => {
          // WHEN both sides check it
          const cdk = problemsOf({ healthCheck: { token: t } });
          const service = serviceProblems(t);
          // THEN they agree
          expect({ token: t, cdkAccepts: cdk.length === 0 }).toEqual({
            token: t,
            cdkAccepts: service.length === 0,
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('nothing silently ignored', () => {
  test('a linear step is refused with the canary strategy, and a canary share with linear', () => {
    expect(problemsOf({ deployment: { linearStepPercent: 20 } })).toEqual([
      'deployment.linearStepPercent: applies only to deployment.strategy "linear", but the strategy is "canary"; remove it or set deployment.strategy to "linear"',
    ]);
    expect(problemsOf({ deployment: { strategy: 'linear', canaryPercent: 5 } })).toEqual([
      'deployment.canaryPercent: applies only to deployment.strategy "canary", but the strategy is "linear"; remove it or set deployment.strategy to "canary"',
    ]);
  });

  test('a linear deployment takes its step and keeps the canary default unused', () => {
    const { deployment } = resolveConfig({
      deployment: { strategy: 'linear', linearStepPercent: 25, stepBakeTimeMinutes: 3 },
    });
    expect(deployment).toMatchObject({
      strategy: 'linear',
      linearStepPercent: 25,
      stepBakeTimeMinutes: 3,
      bakeTimeMinutes: 10,
    });
  });

  test('a failover region is refused while origin failover is off, whatever its value', () => {
    for (const failoverRegion of ['eu-west-1', 'mars']) {
      expect(problemsOf({ site: { originFailover: false, failoverRegion } })).toEqual([
        'site.failoverRegion: is set but site.originFailover is false, so nothing would use it; remove it or set site.originFailover to true',
      ]);
    }
  });

  test.each([
    ['projectName', { projectName: null }],
    ['sizing', { sizing: null }],
    ['sizing.taskCpu', { sizing: { taskCpu: null } }],
    ['healthCheck.token', { healthCheck: { token: null } }],
    ['chaos.enabled', { chaos: { enabled: null } }],
    ['chaos.maxTaskShare', { chaos: { maxTaskShare: null } }],
    ['network.natGateways', { network: { natGateways: null } }],
    ['deployment.strategy', { deployment: { strategy: null } }],
    ['deployment.canaryPercent', { deployment: { canaryPercent: null } }],
    ['homeRegion', { homeRegion: null }],
    ['regions', { regions: null }],
    [
      'regions[0].geoproximityBias',
      { regions: [{ ...DEFAULT_CONFIG.regions[0], geoproximityBias: null }] },
    ],
    ['site.failoverRegion', { site: { failoverRegion: null } }],
    [
      'domain.apiRecordName',
      { domain: { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com', apiRecordName: null } },
    ],
  ])('null for the defaulted field %s is refused, saying to leave it out', (field, overrides) => {
    expect(problemsOf(overrides)).toEqual([
      `${field}: is null; leave the field out to take its default, or give a value`,
    ]);
  });

  test.each([[5], [true], [{ path: 'x.json' }], [['x.json']], [''], [null]])(
    'a config context value of %j is refused, not read as "no config"',
    (value) => {
      expect(() => configPathFromContext(value)).toThrow(
        /^the config context value has 1 problem:\n {2}- must be the path of a JSON file \(-c config=path\/to\/file\.json\), got /,
      );
    },
  );

  test('a config context value that is a path, or none, is taken', () => {
    expect(configPathFromContext('my-config.json')).toBe('my-config.json');
    expect(configPathFromContext(undefined)).toBeUndefined();
  });
});

describe('loadConfig reads the file strictly and says where it is wrong', () => {
  const dir = mkdtempSync(join(tmpdir(), 'blueprint-config-json-'));
  let n = 0;
  const write = (content: string | Buffer) => {
    const path = join(dir, `c${(n += 1)}.json`);
    writeFileSync(path, content);
    return path;
  };
  /** The one problem loadConfig refuses the file with. */
  const problemOf = (content: string | Buffer): string => {
    try {
      loadConfig(write(content));
    } catch (error) {
      if (error instanceof ConfigError && error.problems.length === 1) return error.problems[0];
      throw error;
    }
    throw new Error('loadConfig accepted the file');
  };

  test('a duplicate key is an error naming the key and both lines, not the later block winning', () => {
    // GIVEN two sizing blocks: JSON.parse would silently drop the first
    const text =
      '{\n  "sizing": { "maxTasks": 20 },\n  "projectName": "Shop",\n  "sizing": { "minTasks": 3 }\n}\n';
    // WHEN / THEN
    expect(problemOf(text)).toBe(
      'is not valid JSON: duplicate key "sizing" (first at line 2, column 3); JSON would keep only the last one, so merge them at line 4, column 3',
    );
  });

  test('a duplicate key inside a region is an error too', () => {
    const text = '{"regions": [{"region": "eu-west-1", "region": "eu-west-2"}]}';
    expect(problemOf(text)).toContain('duplicate key "region" (first at line 1, column 15)');
  });

  test.each([
    [
      'a trailing comma',
      '{\n  "projectName": "Shop",\n}',
      "expected a key in double quotes, found '}' (a comma too many?) at line 3, column 1",
    ],
    [
      'a missing comma',
      '{"a": 1\n "b": 2}',
      'expected "," or "}", found \'"\' at line 2, column 2',
    ],
    [
      'single quotes',
      "{'projectName': 'Shop'}",
      "expected a key in double quotes, found ''' at line 1, column 2",
    ],
    [
      'a comment',
      '{\n  // mine\n  "projectName": "Shop"\n}',
      "expected a key in double quotes, found '/' at line 2, column 3",
    ],
    [
      'a comment before a value',
      '{"a": /* x */ 1}',
      "expected a value, found '/' (JSON has no comments) at line 1, column 7",
    ],
    [
      'an unclosed string',
      '{"projectName": "Shop}',
      'a string is not closed with " at line 1, column 17',
    ],
    [
      'an unclosed object',
      '{"sizing": {"maxTasks": 4}',
      'expected "," or "}", found the end of the file at line 1, column 27',
    ],
    [
      'text after the object',
      '{}\n{}',
      "expected the end of the file, found '{' at line 2, column 1",
    ],
    [
      'an empty file',
      '  \n',
      'the file is empty; write {} to take every default at line 2, column 1',
    ],
    [
      'a raw tab in a string',
      '{"projectName": "a\tb"}',
      'the character U+0009 inside a string; write it as an escape such as \\n at line 1, column 19',
    ],
    ['a bad escape', '{"projectName": "a\\x"}', 'invalid escape in a string; allowed are'],
    [
      'a leading zero',
      '{"sizing": {"maxTasks": 012}}',
      'invalid number 01: JSON numbers have no leading zeros, hex or trailing text at line 1, column 25',
    ],
    ['NaN', '{"sizing": {"maxTasks": NaN}}', "expected a value, found 'N' at line 1, column 25"],
    [
      'a number too large for a double',
      '{"waf": {"requestsPerFiveMinutesPerIp": 1e400}}',
      'the number 1e400 is too large at line 1, column 41',
    ],
    [
      'a column after a multi-byte character',
      '{"projectName": "é", x}',
      "expected a key in double quotes, found 'x' at line 1, column 22",
    ],
  ])('%s: line and column', (_name, text, message) => {
    expect(problemOf(text)).toContain(`is not valid JSON: ${message}`);
  });

  test('nesting deeper than 32 levels is refused with its position, not a stack overflow', () => {
    expect(problemOf(`{"sizing": ${'['.repeat(100_000)}`)).toBe(
      'is not valid JSON: nesting deeper than 32 levels at line 1, column 43',
    );
  });

  test('a UTF-8 byte order mark is accepted', () => {
    expect(loadConfig(write('\uFEFF{"projectName": "Shop"}')).projectName).toBe('Shop');
  });

  test('invalid UTF-8 is refused with the byte and its line', () => {
    // GIVEN a Latin-1 "é" (0xe9) on line 2
    const bytes = Buffer.concat([
      Buffer.from('{\n  "projectName": "Caf'),
      Buffer.from([0xe9]),
      Buffer.from('"\n}'),
    ]);
    expect(problemOf(bytes)).toBe(
      'is not valid UTF-8: byte 0xe9 at line 2, column 22 (counting bytes); save the file as UTF-8',
    );
  });

  test('a UTF-16 file is named as such', () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{}', 'utf16le')]);
    expect(problemOf(bytes)).toContain(
      'is not valid UTF-8 (it starts with a UTF-16 byte order mark): byte 0xff at line 1, column 1',
    );
  });

  test('numbers are quoted as written', () => {
    expect(problemOf('{"sizing": {"maxTasks": 1.5e3}}')).toBe(
      'sizing.maxTasks: must be an integer from 1 to 1000 (tasks), got 1.5e3',
    );
    expect(
      problemOf(
        '{"regions": [{"region": "eu-west-1", "availabilityZones": ["eu-west-1a", "eu-west-1b"], "geoproximityBias": -1E2}], "homeRegion": "eu-west-1"}',
      ),
    ).toBe('regions[0].geoproximityBias: must be an integer from -99 to 99, got -1E2');
  });

  test('a numeric account is told it must be a string', () => {
    expect(problemOf('{"account": 12345678901}')).toBe(
      'account: must be a string of 12 digits in quotes, such as "012345678901" (a number loses leading zeros), got 12345678901',
    );
  });

  test('a long value is cut, and its length given', () => {
    const line = problemOf(JSON.stringify({ alarmEmail: 'x'.repeat(5000) }));
    expect(line).toBe(
      `alarmEmail: must be an e-mail address such as "oncall@example.com", got "${'x'.repeat(56)}... (5000 characters)`,
    );
  });

  test('an odd key name is escaped and cut, never printed raw', () => {
    // GIVEN a key with a newline, a right-to-left override and 100 more characters
    const key = `a\nb\u202e${'k'.repeat(100)}`;
    const line = problemOf(JSON.stringify({ sizing: { [key]: 1 } }));
    // THEN
    expect(line).toMatch(
      /^sizing\["a\\nb\\u202ek+\.\.\. \(104 characters\)\]: unknown key; allowed keys here are taskCpu, /,
    );
    expect(line).not.toMatch(/[^\x20-\x7e]/);
  });

  test('a "__proto__" key is an unknown key like any other', () => {
    expect(problemOf('{"__proto__": {"projectName": "x"}}')).toMatch(/^__proto__: unknown key;/);
  });
});

describe('syntax hints', () => {
  test('a closing bracket without a comma before it gets no comma hint', () => {
    // GIVEN a list that is never filled
    const dir = mkdtempSync(join(tmpdir(), 'blueprint-config-hint-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, '{ "regions": [ }');
    // WHEN / THEN
    expect(() => loadConfig(path)).toThrow(
      /is not valid JSON: expected a value, found '}' at line 1, column 16$/,
    );
  });
});
