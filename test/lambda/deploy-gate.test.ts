/**
 * The deploy gate against the REAL service (memcached and dynalite on loopback, see
 * test/service/harness.ts), healthy and under faults: the empty-response fault, a wrong readiness
 * token, a black-holed or reset test listener (the fault proxy in front of the service), a revision
 * that turns bad between two attempts, and malformed ECS hook events.
 */
import { checkRevision, GateOptionsError, type GateVerdict } from '../../lambda/deploy-gate/gate';
import {
  forgetVerdicts,
  loadDeployGateEnv,
  parseHookEvent,
  runHook,
  type DeployGateEnv,
} from '../../lambda/deploy-gate/hook';
import { handler } from '../../lambda/deploy-gate/index';
import { EventValidationError } from '../../lambda/shared/errors';
import { api, eventually, startHarness, type Harness } from '../service/harness';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

import { fakeContext } from './helpers';

const TOKEN = 'gate-test-token';
const SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/blueprint/api';
const REVISION_ARN = 'arn:aws:ecs:us-east-1:123456789012:service-revision/blueprint/api/0042';

/** Short spacing and timeouts: the shapes are production's, the waits are not. */
const FAST = { attempts: 3, spacingMs: 20, timeoutMs: 1500 } as const;

let harness: Harness;
/** In front of the service: the "test listener" the faults act on. */
let proxy: FaultProxy;
let listenerUrl: string;

const hookEvent = (overrides: Record<string, unknown> = {}) => ({
  executionId: 'exec-0001',
  lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
  resourceArn: REVISION_ARN,
  executionDetails: {
    serviceArn: SERVICE_ARN,
    targetServiceRevisionArn: REVISION_ARN,
    testTrafficWeights: { [REVISION_ARN]: 100 },
    productionTrafficWeights: {},
  },
  ...overrides,
});

const gateEnv = (overrides: Partial<DeployGateEnv> = {}): DeployGateEnv => ({
  testListenerUrl: listenerUrl,
  healthToken: TOKEN,
  gateItemId: 'deploy-gate-us-east-1',
  ...FAST,
  ...overrides,
});

const failedChecks = (verdict: GateVerdict) =>
  verdict.checks.filter((check) => !check.ok).map((check) => [check.check, check.failure]);

beforeAll(async () => {
  harness = await startHarness({ env: { HEALTH_TOKEN: TOKEN } });
  proxy = await startFaultProxy({ targetPort: Number(new URL(harness.baseUrl).port) });
  listenerUrl = proxy.endpoint;
  // The first readiness check on a fresh table recreates the sentinel (as on a first deploy);
  // from then on the revision is ready, as the target group would have seen before the gate.
  await eventually(
    () => api(harness.baseUrl, '/health/ready'),
    (response) => response.status === 200,
  );
});

afterAll(async () => {
  try {
    await proxy?.stop();
  } finally {
    await harness?.stop();
  }
});

afterEach(() => {
  proxy.heal();
  forgetVerdicts();
});

describe('checkRevision against the real service', () => {
  test('GIVEN a healthy revision WHEN the gate checks it THEN every check of every attempt passes', async () => {
    const verdict = await checkRevision({ baseUrl: listenerUrl, token: TOKEN, ...FAST });

    expect(verdict.passed).toBe(true);
    expect(verdict.problems).toEqual([]);
    expect(verdict.attempts).toBe(3);
    expect(verdict.checks.map((check) => `${check.attempt} ${check.check}`)).toEqual([
      '1 ready',
      '1 read-probe-item',
      '1 write-gate-item',
      '1 read-back-gate-item',
      '2 ready',
      '2 read-probe-item',
      '2 write-gate-item',
      '2 read-back-gate-item',
      '3 ready',
      '3 read-probe-item',
      '3 write-gate-item',
      '3 read-back-gate-item',
    ]);
    expect(verdict.checks.every((check) => check.bytes > 0)).toBe(true);
  });

  test('wrong token: GIVEN a revision serving another readiness token WHEN checked THEN ready fails with token-missing', async () => {
    const verdict = await checkRevision({ baseUrl: listenerUrl, token: 'other-token', ...FAST });

    expect(verdict.passed).toBe(false);
    expect(verdict.attempts).toBe(1);
    expect(failedChecks(verdict)).toEqual([['ready', 'token-missing']]);
    expect(verdict.problems[0]).toBe(
      'attempt 1 ready: GET /health/ready answered 200 without the readiness token other-token',
    );
  });

  test('black-hole: GIVEN a test listener that accepts and never answers WHEN checked THEN every call times out and the verdict is FAIL, never a pass', async () => {
    proxy.setMode('black-hole');

    const verdict = await checkRevision({
      baseUrl: listenerUrl,
      token: TOKEN,
      ...FAST,
      timeoutMs: 300,
    });

    expect(verdict.passed).toBe(false);
    expect(verdict.attempts).toBe(1);
    expect(failedChecks(verdict)).toEqual([
      ['ready', 'timeout'],
      ['read-probe-item', 'timeout'],
      ['write-gate-item', 'timeout'],
      ['read-back-gate-item', 'timeout'],
    ]);
    expect(verdict.problems[0]).toBe(
      'attempt 1 ready: GET /health/ready got no complete answer within 300 ms',
    );
  });

  test('refuse: GIVEN a test listener that resets every connection WHEN checked THEN the calls fail as network failures', async () => {
    proxy.setMode('refuse');

    const verdict = await checkRevision({ baseUrl: listenerUrl, token: TOKEN, ...FAST });

    expect(verdict.passed).toBe(false);
    expect(failedChecks(verdict)).toEqual([
      ['ready', 'network'],
      ['read-probe-item', 'network'],
      ['write-gate-item', 'network'],
      ['read-back-gate-item', 'network'],
    ]);
  });

  test('lose-response: GIVEN the PUT lands but its answer is lost (connection reset) WHEN checked THEN write-gate-item fails and so does the gate', async () => {
    const isPut = (request: Buffer) => request.toString('latin1').startsWith('PUT ');
    proxy.inject({ match: isPut, action: { kind: 'lose-response' } });

    const verdict = await checkRevision({ baseUrl: listenerUrl, token: TOKEN, ...FAST });

    expect(verdict.passed).toBe(false);
    expect(failedChecks(verdict)).toEqual([['write-gate-item', 'network']]);
  });

  test('hang-response: GIVEN the readiness answer is held in a black hole after the request landed WHEN checked THEN ready times out', async () => {
    const isReady = (request: Buffer) => request.toString('latin1').startsWith('GET /health/ready');
    proxy.inject({ match: isReady, action: { kind: 'hang-response' } });

    const verdict = await checkRevision({
      baseUrl: listenerUrl,
      token: TOKEN,
      ...FAST,
      timeoutMs: 400,
    });

    expect(verdict.passed).toBe(false);
    expect(failedChecks(verdict)).toEqual([['ready', 'timeout']]);
  });

  test('flaky revision: GIVEN a revision that answers well once and then loses responses WHEN checked THEN the second attempt fails the gate (one lucky answer is not a pass)', async () => {
    const verdict = await checkRevision({
      baseUrl: listenerUrl,
      token: TOKEN,
      ...FAST,
      // Between attempt 1 and 2 the revision turns bad: every request's answer is lost.
      sleep: () => {
        proxy.inject({ action: { kind: 'lose-response' }, times: 100 });
        return Promise.resolve();
      },
    });

    expect(verdict.passed).toBe(false);
    expect(verdict.attempts).toBe(2);
    expect(verdict.checks.filter((check) => check.attempt === 1).every((c) => c.ok)).toBe(true);
    expect(failedChecks(verdict)[0]).toEqual(['ready', 'network']);
  });

  test('a bad base URL, an empty token or a reserved gate item is refused with every problem named', async () => {
    const attempt = checkRevision({
      baseUrl: 'ftp://x',
      token: '',
      gateItemId: '_gate',
      attempts: 0,
    });

    await expect(attempt).rejects.toThrow(GateOptionsError);
    await expect(attempt).rejects.toThrow(
      'invalid deploy gate options: baseUrl must be an http(s) URL, got "ftp://x"; token must not be empty: an empty token would let an empty 200 pass; gateItemId must match ^[A-Za-z0-9_-]{1,64}$ and not start with \'_\' (reserved ids refuse writes), got "_gate"; attempts must be an integer from 1 to 20, got 0',
    );
  });
});

describe('the lifecycle hook', () => {
  test('GIVEN a healthy revision WHEN ECS invokes the hook at POST_TEST_TRAFFIC_SHIFT THEN it answers SUCCEEDED', async () => {
    const outcome = await runHook(hookEvent(), { loadEnv: () => gateEnv() });

    expect(outcome.response).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(outcome.outcome).toBe('passed');
    expect(outcome.verdict?.checks).toHaveLength(12);
  });

  test('the deployed handler reads TEST_LISTENER_URL and HEALTH_TOKEN and answers SUCCEEDED for a healthy revision', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      TEST_LISTENER_URL: listenerUrl,
      HEALTH_TOKEN: TOKEN,
      GATE_SPACING_MS: '20',
      GATE_TIMEOUT_MS: '1500',
    });
    try {
      await expect(handler(hookEvent(), fakeContext())).resolves.toEqual({
        hookStatus: 'SUCCEEDED',
      });
    } finally {
      process.env = saved;
    }
  });

  test('retried invocation: GIVEN a verdict given for an execution WHEN ECS invokes the hook again for it THEN it answers the same without calling the revision again', async () => {
    proxy.setMode('refuse');
    const first = await runHook(hookEvent(), { loadEnv: () => gateEnv() });
    proxy.heal();
    const seen = proxy.requestsSeen();

    const retry = await runHook(hookEvent(), { loadEnv: () => gateEnv() });

    expect(first.response).toEqual({ hookStatus: 'FAILED' });
    expect(retry.response).toEqual({ hookStatus: 'FAILED' });
    expect(proxy.requestsSeen()).toBe(seen);
  });

  test('retried invocation on another instance: GIVEN a healthy revision gated once WHEN the same execution is checked again without the remembered verdict THEN it still answers SUCCEEDED (fresh writes, no stale replay)', async () => {
    const first = await runHook(hookEvent({ executionId: 'exec-cold' }), {
      loadEnv: () => gateEnv(),
    });
    forgetVerdicts();

    const retry = await runHook(hookEvent({ executionId: 'exec-cold' }), {
      loadEnv: () => gateEnv(),
    });

    expect(first.response).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(retry.response).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(retry.verdict?.problems).toEqual([]);
  });

  test('duplicate invocation: GIVEN two invocations of one execution at once THEN they share one run of the checks', async () => {
    const [a, b] = await Promise.all([
      runHook(hookEvent({ executionId: 'exec-dup' }), { loadEnv: () => gateEnv() }),
      runHook(hookEvent({ executionId: 'exec-dup' }), { loadEnv: () => gateEnv() }),
    ]);

    expect(a).toBe(b);
    expect(a.response).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('malformed event: a non-object, a missing executionDetails and a wrong stage answer FAILED, never SUCCEEDED, naming what is wrong', async () => {
    const loadEnv = jest.fn(() => gateEnv());

    const notObject = await runHook('deploy', { loadEnv });
    const missing = await runHook(
      { executionId: 'e1', lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' },
      { loadEnv },
    );
    const badStage = await runHook(hookEvent({ lifecycleStage: 'AFTER_DEPLOY' }), { loadEnv });

    for (const outcome of [notObject, missing, badStage]) {
      expect(outcome.response).toEqual({ hookStatus: 'FAILED' });
      expect(outcome.outcome).toBe('invalid-event');
    }
    expect(notObject.detail).toBe('Invalid event: event must be a JSON object, got "deploy"');
    expect(missing.detail).toBe(
      'Invalid event: executionDetails is required: an object with serviceArn, targetServiceRevisionArn',
    );
    expect(badStage.detail).toContain(
      'lifecycleStage must be one of RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, got "AFTER_DEPLOY"',
    );
    // Nothing was checked: a malformed event never reaches the revision.
    expect(loadEnv).not.toHaveBeenCalled();
  });

  test('malformed event: bad ARNs inside executionDetails are named with their path', () => {
    const attempt = () =>
      parseHookEvent(
        hookEvent({ executionDetails: { serviceArn: 'api', targetServiceRevisionArn: 7 } }),
      );

    expect(attempt).toThrow(EventValidationError);
    expect(attempt).toThrow(
      'executionDetails.serviceArn must be an ECS service ARN (arn:aws:ecs:<region>:<account>:service/...), got "api"',
    );
    expect(attempt).toThrow('executionDetails.targetServiceRevisionArn must be an ECS');
  });

  test('the deployed handler answers FAILED (not an exception, not SUCCEEDED) for a malformed event', async () => {
    await expect(handler(null, fakeContext())).resolves.toEqual({ hookStatus: 'FAILED' });
  });

  test('unexpected stage: GIVEN the hook wired to PRE_SCALE_UP WHEN invoked THEN it answers FAILED and says which stage to wire', async () => {
    const outcome = await runHook(hookEvent({ lifecycleStage: 'PRE_SCALE_UP' }), {
      loadEnv: () => gateEnv(),
    });

    expect(outcome.response).toEqual({ hookStatus: 'FAILED' });
    expect(outcome.detail).toBe(
      'the deploy gate checks at POST_TEST_TRAFFIC_SHIFT only, got PRE_SCALE_UP: wire the hook to POST_TEST_TRAFFIC_SHIFT',
    );
  });

  test('misconfigured: a missing TEST_LISTENER_URL, a non-URL and an invalid HEALTH_TOKEN are named, and the hook answers FAILED', async () => {
    expect(
      loadDeployGateEnv({
        TEST_LISTENER_URL: listenerUrl,
        HEALTH_TOKEN: TOKEN,
        AWS_REGION: 'eu-west-1',
      }),
    ).toMatchObject({
      gateItemId: 'deploy-gate-eu-west-1',
      attempts: 3,
      spacingMs: 2000,
      timeoutMs: 3000,
    });
    expect(() => loadDeployGateEnv({ HEALTH_TOKEN: TOKEN })).toThrow(
      'TEST_LISTENER_URL environment variable is not set',
    );
    expect(() =>
      loadDeployGateEnv({ TEST_LISTENER_URL: 'listener:9443', HEALTH_TOKEN: TOKEN }),
    ).toThrow('TEST_LISTENER_URL environment variable must be an http(s) URL, got "listener:9443"');
    expect(() =>
      loadDeployGateEnv({
        TEST_LISTENER_URL: listenerUrl,
        HEALTH_TOKEN: 'say "ready"',
        AWS_REGION: 'us-east-1',
      }),
    ).toThrow('HEALTH_TOKEN environment variable must be "status":"ready" or plain text');
    expect(() =>
      loadDeployGateEnv({
        TEST_LISTENER_URL: listenerUrl,
        HEALTH_TOKEN: TOKEN,
        AWS_REGION: 'us-east-1',
        GATE_ATTEMPTS: '0',
      }),
    ).toThrow('GATE_ATTEMPTS environment variable must be an integer from 1 to 20, got "0"');

    const outcome = await runHook(hookEvent(), {
      loadEnv: () => loadDeployGateEnv({ HEALTH_TOKEN: TOKEN }),
    });
    expect(outcome).toMatchObject({ response: { hookStatus: 'FAILED' }, outcome: 'misconfigured' });
  });
});

// Last: the fault leaves the service self-ejected for its window.
describe('empty-response fault (bypassGuard: empty 200s reach clients)', () => {
  test('GIVEN the empty-response fault on WHEN the gate checks the revision THEN it refuses it: ready fails and the API answers empty bodies', async () => {
    const expiresAt = new Date(Date.now() + 120_000).toISOString();
    await harness.writeFaults([
      { type: 'empty-response', targets: ['*'], expiresAt, params: { ratio: 1 } },
    ]);
    // Control: the revision really answers empty 200s to a plain client.
    const control = await api(listenerUrl, '/api/items/_health-sentinel');
    expect(control.status).toBe(200);
    expect(control.text).toBe('');
    expect(control.headers.get('x-fault-injected')).toBe('empty-response');

    const outcome = await runHook(hookEvent({ executionId: 'exec-empty' }), {
      loadEnv: () => gateEnv(),
    });

    expect(outcome.response).toEqual({ hookStatus: 'FAILED' });
    expect(outcome.outcome).toBe('refused');
    const verdict = outcome.verdict as GateVerdict;
    expect(failedChecks(verdict)).toEqual([
      ['ready', 'status'],
      ['read-probe-item', 'empty-body'],
      ['write-gate-item', 'empty-body'],
      ['read-back-gate-item', 'empty-body'],
    ]);
    expect(verdict.problems).toContain(
      'attempt 1 read-probe-item: GET /api/items/_health-sentinel answered an empty 200 body',
    );
  });
});

describe('a revision deployed with REVISION_FAULTS (what the AWS bad-deploy game day registers)', () => {
  let bad: Harness | undefined;

  afterAll(async () => {
    await bad?.stop();
  });

  test('empty-response from the start: GIVEN a revision whose task definition carries the empty-response fault WHEN the gate checks it THEN it refuses it', async () => {
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    bad = await startHarness({
      env: {
        HEALTH_TOKEN: TOKEN,
        REVISION_FAULTS: JSON.stringify({
          faults: [{ type: 'empty-response', targets: ['*'], expiresAt }],
        }),
      },
    });
    // Control: with nothing in the polled document, the revision answers empty 200s by itself.
    const control = await api(bad.baseUrl, '/api/items/_health-sentinel');
    expect([control.status, control.text]).toEqual([200, '']);

    const verdict = await checkRevision({ baseUrl: bad.baseUrl, token: TOKEN, ...FAST });

    expect(verdict.passed).toBe(false);
    expect(failedChecks(verdict)).toContainEqual(['read-probe-item', 'empty-body']);
  });
});
