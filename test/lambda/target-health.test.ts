/**
 * The production target-health read: the real ELBv2 client (the one `clients.ts` builds, with the
 * shared timeouts and retries) against a fake ELBv2 endpoint on 127.0.0.1 speaking the query
 * protocol, driving stop-tasks against the fake ECS endpoint and dynalite. A read that fails or is
 * lost must refuse the experiment, never count "no answer" as "nothing unhealthy".
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

import { createEcsClient } from '../../lambda/shared/ecs-client';
import { GuardrailRefusal } from '../../lambda/shared/errors';
import type { ChaosDeps } from '../../lambda/shared/experiment';
import { readLease } from '../../lambda/shared/state-table';
import { createElbv2Client, loadBalancerTargetHealth } from '../../lambda/shared/target-health';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { Elbv2Injection, FakeElbv2 } from '../support/fake-elbv2';

import { TestDeps, testDeps, testProcessEnv } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter } from './mocks';

const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef';
/** Short enough that a "lost" answer (delayed past it) keeps the test quick. */
const REQUEST_TIMEOUT_MS = 300;
const LOST_MS = 5_000;

describe('stop-tasks with the target health read through the real ELBv2 client', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const ssm = mockClient(SSMClient);
  let dynamo: LocalDynamo;
  let ecsFake: FakeEcs;
  let elbFake: FakeElbv2;
  let ecs: ECSClient;
  let elb: ElasticLoadBalancingV2Client;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  afterEach(async () => {
    ecs.destroy();
    elb.destroy();
    await Promise.all([ecsFake.close(), elbFake.close()]);
  });

  /** 3 tasks, all healthy in the load balancer; the ELBv2 client retries `maxAttempts` in all. */
  async function world(maxAttempts = 2) {
    ecsFake = await FakeEcs.start(fakeFleet({ count: 3 }));
    elbFake = await FakeElbv2.start();
    elbFake.setTargets(
      TARGET_GROUP,
      new Map([...ecsFake.tasks.values()].map((t) => [t.privateIp ?? '', 'healthy'])),
    );
    ecs = createEcsClient({ endpoint: ecsFake.endpoint, region: 'us-east-1', maxAttempts: 1 });
    elb = createElbv2Client({
      endpoint: elbFake.endpoint,
      region: 'us-east-1',
      maxAttempts,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    cloudWatch.reset();
    ssm.reset();
    mockAlarm(cloudWatch, 'OK');
    mockFaultParameter(ssm, { faults: [] });
    const base: TestDeps = testDeps(await dynamo.createTable(`health-${++tables}`), { ecs });
    const deps: TestDeps & ChaosDeps = {
      ...base,
      targetHealth: loadBalancerTargetHealth(elb, TARGET_GROUP),
    };
    return deps;
  }
  const stop = (deps: TestDeps, id: string) =>
    stopTasks(
      parseStopTasksEvent(
        { experimentId: id, dryRun: false, count: 1, durationMinutes: 1 },
        deps.env,
      ),
      deps,
    );

  test('healthy targets read through the query protocol let one task of three stop', async () => {
    // GIVEN 3 tasks whose targets are healthy
    const deps = await world();

    // WHEN one task is stopped
    const result = await stop(deps, 'exp-ok');

    // THEN it is applied, after one DescribeTargetHealth of the configured target group
    expect(result.status).toBe('applied');
    expect(ecsFake.callsOf('StopTask')).toHaveLength(1);
    expect(elbFake.calls.map((c) => [c.action, c.params.TargetGroupArn])).toEqual([
      ['DescribeTargetHealth', TARGET_GROUP],
    ]);
  });

  test('a target still initial, as the load balancer reports it, counts as missing capacity', async () => {
    // GIVEN 3 tasks, one of whose targets is still initial
    const deps = await world();
    const [first] = [...ecsFake.tasks.values()];
    elbFake.setTargets(
      TARGET_GROUP,
      new Map(
        [...ecsFake.tasks.values()].map((t) => [
          t.privateIp ?? '',
          t === first ? 'initial' : 'healthy',
        ]),
      ),
    );

    // WHEN one more task is asked for, THEN the cap of 1 of 3 refuses it
    await expect(stop(deps, 'exp-initial')).rejects.toThrow(
      '1 not healthy in the load balancer); the cap is 1',
    );
    expect(ecsFake.callsOf('StopTask')).toHaveLength(0);
  });

  test.each<[string, Elbv2Injection, RegExp]>([
    ['the answer lost (slower than the timeout)', { kind: 'slow', delayMs: LOST_MS }, /Timeout/],
    ['a reset connection', { kind: 'reset' }, /ECONNRESET|socket hang up|aborted/i],
    ['a 500 HealthUnavailable', { kind: 'server-error' }, /HealthUnavailable/],
    ['throttling', { kind: 'throttle' }, /Throttling/],
    ['an unreadable 200 body', { kind: 'malformed' }, /./],
  ])(
    'a target health read that fails every attempt with %s refuses the experiment and stops nothing',
    async (_what, injection, reason) => {
      // GIVEN healthy targets, but every DescribeTargetHealth attempt fails
      const deps = await world(2);
      elbFake.inject(injection, injection);

      // WHEN one task is to be stopped
      const outcome = stop(deps, 'exp-unknown');

      // THEN the experiment is refused by the target-health guardrail, naming the failure
      const error: unknown = await outcome.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GuardrailRefusal);
      expect(error).toMatchObject({ code: 'REFUSED', guardrail: 'target-health' });
      expect((error as Error).message).toContain(`the target health of ${TARGET_GROUP} is unknown`);
      expect((error as Error).message).toMatch(reason);
      // AND the client tried as often as it is allowed to, nothing was stopped, no lease is left
      expect(elbFake.calls).toHaveLength(2);
      expect(ecsFake.callsOf('StopTask')).toHaveLength(0);
      expect(await readLease(deps.table, deps.env.service)).toBeUndefined();
    },
  );

  test('one lost answer is retried like the other reads, and the experiment goes on', async () => {
    // GIVEN the first DescribeTargetHealth answer is lost, the second arrives
    const deps = await world(2);
    elbFake.inject({ kind: 'slow', delayMs: LOST_MS });

    // WHEN one task is stopped
    const result = await stop(deps, 'exp-retry');

    // THEN the client read again and the experiment applied
    expect(elbFake.calls.map((c) => c.answer)).toEqual(['slow', 'ok']);
    expect(result.status).toBe('applied');
    expect(ecsFake.callsOf('StopTask')).toHaveLength(1);
  });

  test('an unknown target group refuses the experiment instead of counting no targets', async () => {
    // GIVEN a target health read of a group the load balancer does not know
    const deps = await world(1);
    const wrong = `${TARGET_GROUP}-gone`;

    // WHEN one task is to be stopped
    const outcome = stop({ ...deps, targetHealth: loadBalancerTargetHealth(elb, wrong) }, 'exp-tg');

    // THEN it is refused, naming the error
    await expect(outcome).rejects.toThrow(/TargetGroupNotFound/);
    expect(ecsFake.callsOf('StopTask')).toHaveLength(0);
  });
});

describe('the production dependencies', () => {
  const saved = process.env;
  afterEach(() => {
    process.env = saved;
  });
  /** A fresh copy of deps.ts: it keeps the dependencies it built for the function's life. */
  async function freshDeps(env: Record<string, string>) {
    process.env = { ...saved, ...testProcessEnv(), ...env };
    let mod: typeof import('../../lambda/shared/deps') | undefined;
    await jest.isolateModulesAsync(async () => {
      mod = await import('../../lambda/shared/deps');
    });
    if (!mod) throw new Error('deps.ts did not load');
    return mod;
  }

  test('a capped function without TARGET_GROUP_ARN is misconfigured instead of counting RUNNING tasks', async () => {
    // GIVEN the guarded environment without TARGET_GROUP_ARN
    const { productionDeps, targetGroupHealth } = await freshDeps({});

    // WHEN a function that counts target health builds its dependencies, THEN it is refused
    expect(() => productionDeps({ targetHealth: targetGroupHealth })).toThrow(
      'TARGET_GROUP_ARN environment variable is not set',
    );
  });

  test('with TARGET_GROUP_ARN, target health is always wired; a function that wires none fails closed', async () => {
    // GIVEN the guarded environment with TARGET_GROUP_ARN
    const wired = await freshDeps({ TARGET_GROUP_ARN: TARGET_GROUP });
    const unwired = await freshDeps({ TARGET_GROUP_ARN: TARGET_GROUP });

    // WHEN one function wires target health and another does not
    const withHealth = wired.productionDeps({ targetHealth: wired.targetGroupHealth });
    const withoutHealth = unwired.productionDeps();

    // THEN the first has a reader, and the second throws rather than fall back to RUNNING tasks
    expect(typeof withHealth.chaos.targetHealth).toBe('function');
    expect(() => withoutHealth.chaos.targetHealth?.()).toThrow(
      'this function does not read target health',
    );
  });
});
