/**
 * The production target-health read: the small ELBv2 client (the one `clients/elbv2.ts` builds, with the
 * shared timeouts and retries) against a fake ELBv2 endpoint on 127.0.0.1 speaking the query
 * protocol, driving stop-tasks against the fake ECS endpoint and dynalite. A read that fails or is
 * lost must refuse the experiment, never count "no answer" as "nothing unhealthy".
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';

import { EcsApi } from '../../lambda/shared/ecs-api';
import { Elbv2Api } from '../../lambda/shared/elbv2-api';
import { GuardrailRefusal } from '../../lambda/shared/errors';
import type { ChaosDeps } from '../../lambda/shared/experiment';
import { readLease } from '../../lambda/shared/state-table';
import { loadBalancerTargetHealth } from '../../lambda/shared/target-health';
import { parseStopTasksEvent, stopTasks } from '../../lambda/stop-tasks/stop-tasks';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { Elbv2Injection, FakeElbv2 } from '../support/fake-elbv2';
import { signedClientOptions } from '../support/signed-client-options';

import { TestDeps, testDeps, testProcessEnv } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';
import { mockAlarm, mockFaultParameter } from './mocks';

const TARGET_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api/0123456789abcdef';
/** The group a canary deployment moves the next revision into, and the one after back. */
const ALTERNATE_GROUP =
  'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/api-alt/fedcba9876543210';
const BOTH_GROUPS = [TARGET_GROUP, ALTERNATE_GROUP];
/** Short enough that a "lost" answer (delayed past it) keeps the test quick. */
const REQUEST_TIMEOUT_MS = 300;
const LOST_MS = 5_000;

describe('stop-tasks with the target health read through the real ELBv2 client', () => {
  const cloudWatch = mockClient(CloudWatchClient);
  const ssm = mockClient(SSMClient);
  let dynamo: LocalDynamo;
  let ecsFake: FakeEcs;
  let elbFake: FakeElbv2;
  let ecs: EcsApi;
  let elb: Elbv2Api;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startLocalDynamo();
  });
  afterAll(async () => {
    await dynamo.close();
  });
  afterEach(async () => {
    await Promise.all([ecsFake.close(), elbFake.close()]);
  });

  /**
   * 3 tasks, all healthy in the first target group, none in the alternate one (the service before
   * its first canary deployment); the ELBv2 client retries `maxAttempts` in all.
   */
  async function world(maxAttempts = 2) {
    ecsFake = await FakeEcs.start(fakeFleet({ count: 3 }));
    elbFake = await FakeElbv2.start();
    elbFake.setTargets(
      TARGET_GROUP,
      new Map([...ecsFake.tasks.values()].map((t) => [t.privateIp ?? '', 'healthy'])),
    );
    elbFake.setTargets(ALTERNATE_GROUP, new Map());
    ecs = new EcsApi(signedClientOptions(ecsFake.endpoint, [], { maxAttempts: 1 }));
    elb = new Elbv2Api(
      signedClientOptions(elbFake.endpoint, [], {
        maxAttempts,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      }),
    );
    cloudWatch.reset();
    ssm.reset();
    mockAlarm(cloudWatch, 'OK');
    mockFaultParameter(ssm, { faults: [] });
    const base: TestDeps = testDeps(await dynamo.createTable(`health-${++tables}`), { ecs });
    const deps: TestDeps & ChaosDeps = {
      ...base,
      targetHealth: loadBalancerTargetHealth(elb, BOTH_GROUPS),
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

    // THEN it is applied, after one DescribeTargetHealth of each configured target group
    expect(result.status).toBe('applied');
    expect(ecsFake.callsOf('StopTask')).toHaveLength(1);
    expect(elbFake.calls.map((c) => [c.action, c.params.TargetGroupArn])).toEqual([
      ['DescribeTargetHealth', TARGET_GROUP],
      ['DescribeTargetHealth', ALTERNATE_GROUP],
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
    expect(elbFake.calls.map((c) => c.answer)).toEqual(['slow', 'ok', 'ok']);
    expect(result.status).toBe('applied');
    expect(ecsFake.callsOf('StopTask')).toHaveLength(1);
  });

  test('after a canary deployment, targets in the alternate group alone are counted', async () => {
    // GIVEN the service moved by its last deployment: every target in the alternate group, the
    // first group empty
    const deps = await world();
    const ips = [...ecsFake.tasks.values()].map((t) => t.privateIp ?? '');
    elbFake.setTargets(TARGET_GROUP, new Map());
    elbFake.setTargets(ALTERNATE_GROUP, new Map(ips.map((ip) => [ip, 'healthy'])));

    // WHEN one task of three is stopped
    const result = await stop(deps, 'exp-moved');

    // THEN it is applied: the empty group is not read as "no capacity"
    expect(result.status).toBe('applied');
    expect(ecsFake.callsOf('StopTask')).toHaveLength(1);
  });

  test('a target registered in both groups mid-deployment is counted once', async () => {
    // GIVEN mid-deployment: one target healthy in both groups, the other two in the alternate only
    const deps = await world();
    const [shared, ...moved] = [...ecsFake.tasks.values()].map((t) => t.privateIp ?? '');
    elbFake.setTargets(TARGET_GROUP, new Map([[shared, 'healthy']]));
    elbFake.setTargets(
      ALTERNATE_GROUP,
      new Map([[shared, 'healthy'], ...moved.map((ip): [string, string] => [ip, 'healthy'])]),
    );

    // WHEN the target health is read
    const read = await loadBalancerTargetHealth(elb, BOTH_GROUPS)();

    // THEN each target (id and port) appears once
    expect(read.map((t) => `${t.id}:${t.port ?? ''}:${t.state}`).sort()).toEqual(
      [shared, ...moved].map((ip) => `${ip}:8080:healthy`).sort(),
    );
    // AND one task of three may be stopped
    const result = await stop(deps, 'exp-both');
    expect(result.status).toBe('applied');
  });

  test('a target healthy in one group but draining from the other counts as not healthy', async () => {
    // GIVEN mid-deployment: one target healthy in the alternate group and draining from the first
    const deps = await world();
    const [leaving, ...rest] = [...ecsFake.tasks.values()].map((t) => t.privateIp ?? '');
    elbFake.setTargets(TARGET_GROUP, new Map([[leaving, 'draining']]));
    elbFake.setTargets(
      ALTERNATE_GROUP,
      new Map([leaving, ...rest].map((ip): [string, string] => [ip, 'healthy'])),
    );

    // WHEN one task is to be stopped, THEN the cap counts that target as missing and refuses
    await expect(stop(deps, 'exp-draining')).rejects.toThrow(
      '1 not healthy in the load balancer); the cap is 1',
    );
    expect(ecsFake.callsOf('StopTask')).toHaveLength(0);
  });

  test.each<[string, Elbv2Injection, RegExp]>([
    ['the answer lost (slower than the timeout)', { kind: 'slow', delayMs: LOST_MS }, /Timeout/],
    ['a reset connection', { kind: 'reset' }, /ECONNRESET|socket hang up|aborted/i],
  ])(
    "the second group's read failing every attempt with %s refuses the experiment, never counting that group as empty",
    async (_what, injection, reason) => {
      // GIVEN the first group answers (healthy targets), the alternate group's reads all fail
      const deps = await world(2);
      elbFake.inject({ kind: 'ok' }, injection, injection);

      // WHEN one task is to be stopped
      const error: unknown = await stop(deps, 'exp-second').catch((e: unknown) => e);

      // THEN the target-health guardrail refuses, naming the alternate group and the failure
      expect(error).toBeInstanceOf(GuardrailRefusal);
      expect(error).toMatchObject({ code: 'REFUSED', guardrail: 'target-health' });
      expect((error as Error).message).toContain(
        `the target health of ${ALTERNATE_GROUP} is unknown`,
      );
      expect((error as Error).message).toMatch(reason);
      // AND both groups were asked (the second as often as allowed), nothing was stopped
      expect(elbFake.calls.map((c) => [c.params.TargetGroupArn, c.answer])).toEqual([
        [TARGET_GROUP, 'ok'],
        [ALTERNATE_GROUP, injection.kind],
        [ALTERNATE_GROUP, injection.kind],
      ]);
      expect(ecsFake.callsOf('StopTask')).toHaveLength(0);
      expect(await readLease(deps.table, deps.env.service)).toBeUndefined();
    },
  );

  test('an unknown target group refuses the experiment instead of counting no targets', async () => {
    // GIVEN a target health read of a group the load balancer does not know
    const deps = await world(1);
    const wrong = `${TARGET_GROUP}-gone`;

    // WHEN one task is to be stopped
    const outcome = stop(
      { ...deps, targetHealth: loadBalancerTargetHealth(elb, [TARGET_GROUP, wrong]) },
      'exp-tg',
    );

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
  /**
   * Fresh copies of deps.ts (it keeps the dependencies it built for the function's life) and of
   * target-group-health.ts, which the functions that count target health import beside it.
   */
  async function freshDeps(env: Record<string, string>) {
    process.env = { ...saved, ...testProcessEnv(), ...env };
    let mod:
      | (typeof import('../../lambda/shared/deps') &
          typeof import('../../lambda/shared/target-group-health'))
      | undefined;
    await jest.isolateModulesAsync(async () => {
      mod = {
        ...(await import('../../lambda/shared/deps')),
        ...(await import('../../lambda/shared/target-group-health')),
      };
    });
    if (!mod) throw new Error('deps.ts did not load');
    return mod;
  }

  test('a capped function without TARGET_GROUP_ARNS is misconfigured instead of counting RUNNING tasks', async () => {
    // GIVEN the guarded environment without TARGET_GROUP_ARNS
    const { productionDeps, targetGroupHealth } = await freshDeps({});

    // WHEN a function that counts target health builds its dependencies, THEN it is refused
    expect(() => productionDeps({ targetHealth: targetGroupHealth })).toThrow(
      'TARGET_GROUP_ARNS environment variable is not set',
    );
  });

  test.each([
    [
      'a value that is not an ARN',
      `${TARGET_GROUP},tg-alternate`,
      '"tg-alternate" is not a target group ARN',
    ],
    ['an empty item', `${TARGET_GROUP},`, '"" is not a target group ARN'],
    ['a group listed twice', `${TARGET_GROUP},${TARGET_GROUP}`, `${TARGET_GROUP} is listed twice`],
  ])(
    'TARGET_GROUP_ARNS with %s is misconfigured, naming the value and what is allowed',
    async (_what, value, problem) => {
      // GIVEN the guarded environment with a bad TARGET_GROUP_ARNS
      const { productionDeps, targetGroupHealth } = await freshDeps({ TARGET_GROUP_ARNS: value });

      // WHEN a function that counts target health builds its dependencies
      const build = () => productionDeps({ targetHealth: targetGroupHealth });

      // THEN it is refused, naming the variable, the value, the problem and the allowed form
      // (a fresh copy of the module: its own EnvironmentError class, so matched by name and code)
      expect(build).toThrow(
        expect.objectContaining({ name: 'EnvironmentError', code: 'MISCONFIGURED' }) as Error,
      );
      expect(build).toThrow(
        `TARGET_GROUP_ARNS must be target group ARNs (arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>), comma-separated, each once; got ${JSON.stringify(value)}: ${problem}`,
      );
    },
  );

  test('with TARGET_GROUP_ARNS, target health is always wired; a function that wires none fails closed', async () => {
    // GIVEN the guarded environment with both target groups in TARGET_GROUP_ARNS
    const wired = await freshDeps({ TARGET_GROUP_ARNS: BOTH_GROUPS.join(',') });
    const unwired = await freshDeps({ TARGET_GROUP_ARNS: BOTH_GROUPS.join(',') });

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
