import { loadCanaryEnv, loadChaosEnv, requireEnv } from '../../lambda/shared/env';

import { testProcessEnv } from './helpers';

describe('environment', () => {
  test('a missing variable is named', () => {
    expect(() => requireEnv('CLUSTER_ARN', {})).toThrow(
      'CLUSTER_ARN environment variable is not set',
    );
    expect(() => requireEnv('CLUSTER_ARN', { CLUSTER_ARN: '  ' })).toThrow(
      'CLUSTER_ARN environment variable is not set',
    );
  });

  test('the construct environment loads, with defaults for the guardrails', () => {
    const env = testProcessEnv();
    delete env.MAX_TASK_SHARE;
    delete env.MAX_FAULT_DURATION_MINUTES;
    expect(loadChaosEnv(env)).toMatchObject({
      maxTaskShare: 0.5,
      maxFaultDurationMinutes: 30,
      subnetAvailabilityZones: {},
    });
  });

  test('MAX_TASK_SHARE must be above 0 and at most 1', () => {
    expect(() => loadChaosEnv({ ...testProcessEnv(), MAX_TASK_SHARE: '0' })).toThrow(
      'MAX_TASK_SHARE environment variable must be a number above 0 to 1, got "0"',
    );
    expect(() => loadChaosEnv({ ...testProcessEnv(), MAX_TASK_SHARE: 'half' })).toThrow(
      'got "half"',
    );
  });

  test('MAX_FAULT_DURATION_MINUTES must be a whole number of minutes', () => {
    expect(() => loadChaosEnv({ ...testProcessEnv(), MAX_FAULT_DURATION_MINUTES: '2.5' })).toThrow(
      'MAX_FAULT_DURATION_MINUTES environment variable must be an integer from 1 to 720, got "2.5"',
    );
  });

  test('SUBNET_AZS must be a JSON object of strings', () => {
    expect(
      loadChaosEnv({ ...testProcessEnv(), SUBNET_AZS: '{"subnet-a":"us-east-1a"}' })
        .subnetAvailabilityZones,
    ).toEqual({
      'subnet-a': 'us-east-1a',
    });
    expect(() => loadChaosEnv({ ...testProcessEnv(), SUBNET_AZS: '["subnet-a"]' })).toThrow(
      'SUBNET_AZS environment variable must be a JSON object of strings',
    );
  });

  test('CANARY_TARGETS must be a JSON list of named http(s) URLs', () => {
    const base = { AWS_REGION: 'us-east-1', HEALTH_TOKEN: 'ready' };
    expect(
      loadCanaryEnv({
        ...base,
        CANARY_TARGETS: '[{"name":"global","url":"https://api.example.com/ready"}]',
      }),
    ).toEqual({
      region: 'us-east-1',
      healthToken: 'ready',
      timeoutMs: 5000,
      targets: [{ name: 'global', url: 'https://api.example.com/ready' }],
    });
    expect(() => loadCanaryEnv({ ...base, CANARY_TARGETS: 'global' })).toThrow(
      'CANARY_TARGETS environment variable must be JSON, got "global"',
    );
    expect(() =>
      loadCanaryEnv({ ...base, CANARY_TARGETS: '[{"name":"global","url":"ftp://x"}]' }),
    ).toThrow('entry 0 (global) has URL "ftp://x"');
  });
});
