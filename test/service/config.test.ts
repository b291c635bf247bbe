import { ConfigError, DEFAULT_HEALTH_TOKEN, loadConfig } from '../../service/src/config';

const minimal = {
  MEMCACHED_ENDPOINTS: 'cache-a.internal:11211,cache-b.internal:11211',
  TABLE_NAME: 'catalog-items',
  FAULTS_PARAMETER: '/blueprint/faults',
  AWS_REGION: 'eu-west-1',
};

function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

test('the minimal AWS environment gets the documented defaults', () => {
  const config = loadConfig(minimal);

  expect(config).toMatchObject({
    port: 8080,
    host: '0.0.0.0',
    memcachedEndpoints: [
      { host: 'cache-a.internal', port: 11211 },
      { host: 'cache-b.internal', port: 11211 },
    ],
    memcachedTls: false,
    tableName: 'catalog-items',
    faultsSource: { kind: 'ssm-parameter', name: '/blueprint/faults' },
    faultsPollSeconds: 5,
    healthToken: DEFAULT_HEALTH_TOKEN,
    region: 'eu-west-1',
    serviceVersion: '0.1.0',
    metricsNamespace: 'Blueprint/Service',
    shutdownDrainSeconds: 20,
  });
  expect(config.dynamoDbEndpoint).toBeUndefined();
});

test('the local environment: a faults file, a DynamoDB endpoint, TLS, and a task id', () => {
  const config = loadConfig({
    PORT: '9090',
    HOST: '127.0.0.1',
    MEMCACHED_ENDPOINTS: '127.0.0.1:21211',
    MEMCACHED_TLS: 'true',
    TABLE_NAME: 'items',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:4567/',
    FAULTS_FILE: '/tmp/faults.json',
    FAULTS_POLL_SECONDS: '0.5',
    TASK_ID: 'local-1',
    AVAILABILITY_ZONE: 'local-a',
    HEALTH_TOKEN: 'catalog-ok',
  });

  expect(config).toMatchObject({
    port: 9090,
    memcachedTls: true,
    dynamoDbEndpoint: 'http://127.0.0.1:4567',
    faultsSource: { kind: 'file', path: '/tmp/faults.json' },
    faultsPollSeconds: 0.5,
    taskId: 'local-1',
    availabilityZone: 'local-a',
    healthToken: 'catalog-ok',
    region: 'local',
  });
});

test('an empty environment reports every missing variable at once', () => {
  expect(problemsOf({})).toEqual([
    'AWS_REGION environment variable is not set',
    'set exactly one of MEMCACHED_CONFIG_ENDPOINT (the ElastiCache configuration endpoint, host:port) or MEMCACHED_ENDPOINTS (a static host:port list), got neither',
    'TABLE_NAME environment variable is not set',
    'set exactly one of FAULTS_FILE or FAULTS_PARAMETER, got neither',
  ]);
});

test('each bad value is named with what was given and what is allowed', () => {
  expect(
    problemsOf({
      ...minimal,
      PORT: 'eighty',
      MEMCACHED_ENDPOINTS: 'cache-a:11211,cache-b',
      TABLE_NAME: 'x',
      FAULTS_FILE: '/tmp/faults.json',
      FAULTS_POLL_SECONDS: '0',
      HEALTH_TOKEN: 'say "ready"',
      DYNAMODB_ENDPOINT: 'localhost:4567',
      MEMCACHED_TLS: 'yes',
      SHUTDOWN_DRAIN_SECONDS: '-1',
      LOG_LEVEL: 'loud',
    }),
  ).toEqual([
    "DYNAMODB_ENDPOINT must be an http(s) URL, got 'localhost:4567'",
    "PORT must be an integer 0-65535, got 'eighty'",
    "MEMCACHED_ENDPOINTS must be comma-separated host:port entries, got 'cache-b'",
    "MEMCACHED_TLS must be 'true' or 'false', got 'yes'",
    "TABLE_NAME must be 3-255 characters of A-Z, a-z, 0-9, '_', '-', '.', got 'x'",
    'set exactly one of FAULTS_FILE or FAULTS_PARAMETER, got both',
    "FAULTS_POLL_SECONDS must be a number 0.1-300, got '0'",
    `HEALTH_TOKEN must be ${DEFAULT_HEALTH_TOKEN} or plain text without quotes, backslashes or control characters, got 'say "ready"'`,
    "SHUTDOWN_DRAIN_SECONDS must be a number 0-120, got '-1'",
    "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
  ]);
});

test('a port out of range, a duplicate endpoint and a bad parameter name are refused', () => {
  expect(
    problemsOf({
      ...minimal,
      PORT: '70000',
      MEMCACHED_ENDPOINTS: 'a:1,a:1',
      FAULTS_PARAMETER: 'faults with spaces',
    }),
  ).toEqual([
    "PORT must be an integer 0-65535, got '70000'",
    "MEMCACHED_ENDPOINTS lists the same endpoint twice, got 'a:1,a:1'",
    "FAULTS_PARAMETER must be an SSM parameter name (A-Z, a-z, 0-9, '_', '.', '-', '/'), got 'faults with spaces'",
  ]);
});

test('the ConfigError message is one line naming every problem', () => {
  expect(() => loadConfig({ ...minimal, PORT: 'x', TABLE_NAME: '' })).toThrow(
    "Invalid configuration: PORT must be an integer 0-65535, got 'x'; TABLE_NAME environment variable is not set",
  );
});

describe('the memcached nodes: a configuration endpoint (AWS) or a static list (local runs)', () => {
  const aws = {
    TABLE_NAME: 'catalog-items',
    FAULTS_PARAMETER: '/blueprint/faults',
    AWS_REGION: 'eu-west-1',
    MEMCACHED_TLS: 'true',
  };

  test('MEMCACHED_CONFIG_ENDPOINT is read as one host:port, with a 60 s refresh by default', () => {
    const config = loadConfig({
      ...aws,
      MEMCACHED_CONFIG_ENDPOINT: 'catalog.abc123.cfg.euw1.cache.amazonaws.com:11211',
    });

    expect(config.memcachedConfigEndpoint).toEqual({
      host: 'catalog.abc123.cfg.euw1.cache.amazonaws.com',
      port: 11211,
    });
    expect(config.memcachedEndpoints).toEqual([]);
    expect(config.memcachedDiscoveryIntervalSeconds).toBe(60);
  });

  test('both, a list as the configuration endpoint, or a bad interval are refused by name', () => {
    expect(
      problemsOf({ ...aws, MEMCACHED_CONFIG_ENDPOINT: 'cfg:11211', MEMCACHED_ENDPOINTS: 'a:1' }),
    ).toEqual([
      'set exactly one of MEMCACHED_CONFIG_ENDPOINT (the ElastiCache configuration endpoint, host:port) or MEMCACHED_ENDPOINTS (a static host:port list), got both',
    ]);
    expect(
      problemsOf({
        ...aws,
        MEMCACHED_CONFIG_ENDPOINT: 'a:1,b:2',
        MEMCACHED_DISCOVERY_INTERVAL_SECONDS: '0',
      }),
    ).toEqual([
      "MEMCACHED_CONFIG_ENDPOINT must be one host:port, got 'a:1,b:2'",
      "MEMCACHED_DISCOVERY_INTERVAL_SECONDS must be a number 1-3600, got '0'",
    ]);
    expect(problemsOf({ ...aws, MEMCACHED_CONFIG_ENDPOINT: 'cfg' })).toEqual([
      "MEMCACHED_CONFIG_ENDPOINT must be comma-separated host:port entries, got 'cfg'",
    ]);
  });
});

test('REVISION_FAULTS: a fault document the revision carries from its start (the bad-deploy game day)', () => {
  const config = loadConfig({
    ...minimal,
    REVISION_FAULTS:
      '{"faults":[{"type":"empty-response","targets":["*"],"expiresAt":"2030-01-01T00:00:00Z"}]}',
  });

  expect(config.revisionFaults).toHaveLength(1);
  expect(config.revisionFaults[0]).toMatchObject({
    type: 'empty-response',
    targets: ['*'],
    params: { ratio: 1, bypassGuard: true },
  });
});

test('REVISION_FAULTS unset means no revision faults; a malformed one is named with its problems', () => {
  expect(loadConfig({ ...minimal }).revisionFaults).toEqual([]);
  expect(problemsOf({ ...minimal, REVISION_FAULTS: '{"faults":[{}]}' })).toEqual([
    expect.stringMatching(
      /^REVISION_FAULTS must be a fault document \{"faults":\[\.\.\.\]\}: faults\[0\]\.type must be one of empty-response, /,
    ),
  ]);
  expect(problemsOf({ ...minimal, REVISION_FAULTS: 'empty-response' })).toEqual([
    'REVISION_FAULTS must be a fault document {"faults":[...]}: not JSON',
  ]);
});
