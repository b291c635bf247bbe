/**
 * Interleavings of inject, retried inject, restore, sweep, crashes and expiry, explored with
 * fast-check's scheduler against the fake ECS endpoint and dynalite (issue 14).
 *
 * Every AWS call of every invocation waits at a gate that the scheduler opens; only one call is in
 * flight at a time and the next gate opens only once everything else is quiet, so a schedule is
 * reproducible from its seed. Between two steps the test checks the world:
 *
 * - every live change (a fault in the document that has not expired, or the service's network
 *   differing from the original) belongs to the experiment of the current state item, and that
 *   experiment is not `restored`. This is "restored implies no fault of the experiment is live",
 *   and, since there is one state item, invariant 1: two experiments never hold one target;
 * - the tasks affected (not running, or under a live fault) never exceed the blast-radius cap.
 *
 * At the end the clock moves past every window and the sweep runs: then nothing is live, the
 * state is restored and the lease can be taken (invariant 2: a crashed experiment frees it).
 *
 * An invocation "crashes" by stopping at a chosen call forever, and dies (as Lambda ends it) at
 * its first call after its 50 s timeout has passed on the test's clock.
 * On failure, fast-check prints the seed, the path and the schedule (the scheduler's report);
 * `RACE_SEED=<seed> RACE_PATH=<path>` replays it. Each scenario starts from a reset fake ECS.
 */
import fc from 'fast-check';

import { azOutage, parseAzOutageEvent } from '../../lambda/az-outage/az-outage';
import {
  emptyResponses,
  parseEmptyResponsesEvent,
} from '../../lambda/empty-responses/empty-responses';
import { latency, parseLatencyEvent } from '../../lambda/latency/latency';
import { parseRestoreEvent, restore } from '../../lambda/restore/restore';
import { AwsApiError } from '../../lambda/shared/aws-json-api';
import type { CloudWatchCalls } from '../../lambda/shared/cloudwatch-api';
import type { DynamoDbCalls } from '../../lambda/shared/dynamodb-api';
import { EcsApi, type EcsCalls } from '../../lambda/shared/ecs-api';
import type { ChaosDeps } from '../../lambda/shared/experiment';
import type { SsmCalls } from '../../lambda/shared/ssm-api';
import { StateTable, acquireLease, readLease, readState } from '../../lambda/shared/state-table';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { signedClientOptions } from '../support/signed-client-options';

import { SERVICE_ARN, recordingAudit, testEnv } from './helpers';
import { LocalDynamo, startLocalDynamo } from './local-dynamo';

const FLEET = fakeFleet({ count: 6 });
const ORIGINAL_SUBNETS = ['subnet-a', 'subnet-b', 'subnet-c'];
const T0 = Date.parse('2026-03-01T12:00:00Z');
/** The guarded functions' Lambda timeout: an invocation is dead after it. */
const FUNCTION_TIMEOUT_MS = 50_000;
/** The ECS client's timeout, and a reply slower than it. */
const REQUEST_TIMEOUT_MS = 300;
const SLOW_MS = 600;
/** floor(6 tasks x MAX_TASK_SHARE 0.5). */
const CAP = 3;
/** Bounded so that the property runs in seconds; raise locally to search harder. */
const NUM_RUNS = Number(process.env.RACE_RUNS ?? 100);
/** Replays one failure: `RACE_SEED=<seed> RACE_PATH=<path>` as fast-check printed them. */
const REPLAY =
  process.env.RACE_SEED !== undefined
    ? {
        seed: Number(process.env.RACE_SEED),
        ...(process.env.RACE_PATH ? { path: process.env.RACE_PATH } : {}),
      }
    : {};

type Kind = 'empty-responses' | 'latency' | 'az-outage';
const KINDS: readonly Kind[] = ['empty-responses', 'latency', 'az-outage'];
type Id = 'exp-a' | 'exp-b';

/** One invocation (or a clock move), launched once the driver has opened `startAt` gates. */
interface Trouble {
  /** Stops for good at this call (a crash). */
  readonly crashAt?: number;
  /**
   * The first call of this operation (`PutParameter`, `UpdateService`, `Put` of DynamoDB, ...) is
   * slow: it waits for `slowBy` more scheduler picks than the others.
   */
  readonly slowOn?: string;
  readonly slowBy?: number;
}
type Step =
  | ({
      readonly kind: 'inject' | 'restore';
      readonly experiment: Id;
      readonly startAt: number;
    } & Trouble)
  | ({ readonly kind: 'sweep'; readonly startAt: number } & Trouble)
  | { readonly kind: 'advance'; readonly startAt: number; readonly minutes: number }
  /** The next UpdateService replies after the client gave up, with or without its effect. */
  | { readonly kind: 'ecs-timeout'; readonly startAt: number; readonly applied: boolean };

const startArb = fc.integer({ min: 0, max: 12 });
const callNumberArb = fc.integer({ min: 1, max: 12 });
const troubleArb: fc.Arbitrary<Trouble> = fc.record(
  {
    crashAt: fc.option(callNumberArb, { nil: undefined, freq: 4 }),
    // Writes are where a slow call matters: the state write, the fault write, the network update.
    slowOn: fc.option(fc.constantFrom('PutParameter', 'UpdateService', 'PutItem', 'GetParameter'), {
      nil: undefined,
      freq: 5,
    }),
    slowBy: fc.integer({ min: 2, max: 10 }),
  },
  { requiredKeys: ['slowBy'] },
);
const call = (kind: 'inject' | 'restore', experiment: Id) =>
  fc
    .tuple(
      fc.record({
        kind: fc.constant(kind),
        experiment: fc.constant(experiment),
        startAt: startArb,
      }),
      troubleArb,
    )
    .map(([step, trouble]): Step => ({ ...step, ...trouble }));
/**
 * Besides exp-a's first inject and an abort of it: retries and more aborts, sweeps, clock moves,
 * and a second experiment that wants the same service.
 */
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 2, arbitrary: call('restore', 'exp-a') },
  { weight: 2, arbitrary: call('inject', 'exp-a') },
  { weight: 2, arbitrary: call('inject', 'exp-b') },
  { weight: 1, arbitrary: call('restore', 'exp-b') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.record({ kind: fc.constant('sweep' as const), startAt: startArb }), troubleArb)
      .map(([step, trouble]): Step => ({ ...step, ...trouble })),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      startAt: startArb,
      minutes: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('ecs-timeout' as const),
      startAt: startArb,
      applied: fc.boolean(),
    }),
  },
);
const scenarioArb = fc.record({
  kinds: fc.shuffledSubarray([...KINDS], { minLength: 2, maxLength: 2 }),
  first: troubleArb,
  abort: call('restore', 'exp-a'),
  steps: fc.array(stepArb, { minLength: 0, maxLength: 3 }),
});

/** The world one run acts on. */
interface World {
  readonly kindOf: Record<Id, Kind>;
  now: number;
  faultText: string | undefined;
  readonly fake: FakeEcs;
  readonly table: StateTable;
  readonly ecs: EcsApi;
  inflight: number;
  /** Whether a check between steps saw a live change (a fault really acting). */
  sawLive: boolean;
}

/** Runs `op` once the scheduler opens this call's gate, unless the invocation is dead. */
interface Invocation {
  readonly name: string;
  readonly trouble: Trouble;
  /** Calls that passed their gate. */
  calls: number;
  slowed: boolean;
  startedAt?: number;
  dead: boolean;
  /** Resolves when the invocation crashed or died (it never settles then). */
  readonly died: Promise<void>;
  die(): void;
}

function invocation(name: string, trouble: Trouble = {}): Invocation {
  let die!: () => void;
  const died = new Promise<void>((resolve) => (die = resolve));
  const inv: Invocation = {
    name,
    trouble,
    calls: 0,
    slowed: false,
    dead: false,
    died,
    die: () => {
      inv.dead = true;
      die();
    },
  };
  return inv;
}

const NEVER = new Promise<never>(() => undefined);

function gated<T>(
  s: fc.Scheduler,
  world: World,
  inv: Invocation,
  label: string,
  op: () => Promise<T>,
): Promise<T> {
  let opened = s.schedule(Promise.resolve(), `${inv.name}:${label}`);
  if (label === inv.trouble.slowOn && !inv.slowed) {
    inv.slowed = true;
    for (let i = 0; i < (inv.trouble.slowBy ?? 0); i++) {
      opened = opened.then(() => s.schedule(Promise.resolve(), `${inv.name}:${label} (slow)`));
    }
  }
  return opened.then(async () => {
    inv.calls++;
    inv.startedAt ??= world.now;
    const timedOut = world.now - inv.startedAt > FUNCTION_TIMEOUT_MS;
    if (inv.dead || timedOut || inv.calls === inv.trouble.crashAt) {
      inv.die();
      return NEVER;
    }
    world.inflight++;
    try {
      return await op();
    } finally {
      world.inflight--;
    }
  });
}

/** Runs one AWS call (`label` is the command's name): at once, or once its gate opens. */
type Pass = <T>(label: string, op: () => Promise<T>) => Promise<T>;

/** ChaosDeps acting on `world`, whose every AWS call goes through `pass`. */
function depsThrough(world: World, pass: Pass): ChaosDeps {
  const ecs: EcsCalls = {
    call: (operation, input) => pass(operation, () => world.ecs.call(operation, input)),
  };
  const ssm: SsmCalls = {
    call: (operation, input) =>
      pass(operation, () =>
        Promise.resolve(ssmAnswer(world, operation, input as { Value?: string }) as never),
      ),
  };
  const cloudWatch: CloudWatchCalls = {
    call: () =>
      Promise.resolve({
        MetricAlarms: [],
        CompositeAlarms: [{ AlarmName: 'a', StateValue: 'OK' as const }],
      } as never),
  };
  const dynamoDb: DynamoDbCalls = {
    call: (operation, input, options) =>
      pass(operation, () => world.table.api.call(operation, input, options)),
  };
  return {
    env: testEnv(),
    ecs,
    ssm,
    cloudWatch,
    table: { api: dynamoDb, tableName: world.table.tableName },
    cacheNodes: () => {
      throw new Error('not used');
    },
    probeOtherRegions: () => Promise.resolve([]),
    audit: recordingAudit(),
    now: () => new Date(world.now),
    random: () => 0.999999,
  };
}

/** ChaosDeps whose every AWS call passes the invocation's gate. */
const gatedDeps = (s: fc.Scheduler, world: World, inv: Invocation): ChaosDeps =>
  depsThrough(world, (label, op) => gated(s, world, inv, label, op));

function ssmAnswer(world: World, operation: string, input: { Value?: string }): unknown {
  if (operation === 'GetParameter') {
    if (world.faultText === undefined) {
      throw new AwsApiError(operation, 'ParameterNotFound', 400, 'parameter not found');
    }
    return { Parameter: { Value: world.faultText, Version: 1 } };
  }
  if (operation === 'PutParameter') {
    world.faultText = input.Value;
    return { Version: 2 };
  }
  throw new Error(`unexpected SSM call ${operation}`);
}

function start(
  step: Exclude<Step, { kind: 'advance' | 'ecs-timeout' }>,
  kindOf: Record<Id, Kind>,
  deps: ChaosDeps,
): Promise<unknown> {
  if (step.kind === 'sweep') return restore(parseRestoreEvent({ sweep: true }, deps.env), deps);
  if (step.kind === 'restore') {
    return restore(parseRestoreEvent({ experimentId: step.experiment }, deps.env), deps);
  }
  const base = { experimentId: step.experiment, durationMinutes: 2, dryRun: false };
  switch (kindOf[step.experiment]) {
    case 'empty-responses':
      return emptyResponses(parseEmptyResponsesEvent({ ...base, count: 1 }, deps.env), deps);
    case 'latency':
      return latency(parseLatencyEvent({ ...base, count: 1, latencyMs: 500 }, deps.env), deps);
    case 'az-outage':
      return azOutage(
        parseAzOutageEvent({ ...base, availabilityZone: 'us-east-1a' }, deps.env),
        deps,
      );
  }
}

/** Which experiments have a live change right now. */
function liveOwners(world: World): Set<string> {
  const ownerOf = (kind: Kind) =>
    Object.entries(world.kindOf).find(([, k]) => k === kind)?.[0] ?? `(no ${kind})`;
  const owners = new Set<string>();
  const doc = world.faultText
    ? (JSON.parse(world.faultText) as { faults: { type: string; expiresAt: string }[] })
    : { faults: [] };
  for (const f of doc.faults) {
    if (Date.parse(f.expiresAt) > world.now)
      owners.add(ownerOf(f.type === 'empty-response' ? 'empty-responses' : 'latency'));
  }
  const subnets =
    world.fake.services.get(SERVICE_ARN)?.networkConfiguration?.awsvpcConfiguration?.subnets ?? [];
  if ([...subnets].sort().join(',') !== ORIGINAL_SUBNETS.join(','))
    owners.add(ownerOf('az-outage'));
  return owners;
}

function affectedTasks(world: World): number {
  const doc = world.faultText
    ? (JSON.parse(world.faultText) as { faults: { targets: string[]; expiresAt: string }[] })
    : { faults: [] };
  const faulted = new Set(
    doc.faults.filter((f) => Date.parse(f.expiresAt) > world.now).flatMap((f) => f.targets),
  );
  return [...world.fake.tasks.values()].filter(
    (t) =>
      t.desiredStatus !== 'RUNNING' ||
      faulted.has('*') ||
      faulted.has(t.taskArn.split('/').at(-1) ?? ''),
  ).length;
}

/** The step invariants; throws naming what broke. */
async function check(world: World, when: string): Promise<void> {
  const owners = liveOwners(world);
  if (owners.size > 0) world.sawLive = true;
  const state = owners.size > 0 ? await readState(world.table, SERVICE_ARN) : undefined;
  for (const owner of owners) {
    if (!state || state.experimentId !== owner || state.status === 'restored') {
      throw new Error(
        `${when}: ${owner} has a live change while the state item is ` +
          `${state ? `${state.experimentId} ${state.status}` : 'absent'} (live: ${[...owners].join(', ')})`,
      );
    }
  }
  const affected = affectedTasks(world);
  if (affected > CAP)
    throw new Error(`${when}: ${affected} tasks affected, over the cap of ${CAP}`);
}

/**
 * Opens gates one at a time, each only when nothing is in flight, checking between steps. Each
 * launch starts once `startAt` gates have been opened.
 */
async function drive(
  s: fc.Scheduler,
  world: World,
  launches: readonly { readonly startAt: number; readonly launch: () => Promise<unknown> }[],
): Promise<void> {
  const running: Promise<unknown>[] = [];
  let unsettled = 0;
  const launch = (item: (typeof launches)[number]) => {
    unsettled++;
    running.push(item.launch().finally(() => unsettled--));
  };
  const waiting = [...launches].sort((x, y) => x.startAt - y.startAt);
  let steps = 0;
  let idle = 0;
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (world.inflight > 0) continue;
    await check(world, `after step ${steps}`);
    if (waiting.length > 0 && waiting[0].startAt <= steps) {
      while (waiting.length > 0 && waiting[0].startAt <= steps)
        launch(waiting.shift() as (typeof waiting)[number]);
      continue; // let them reach their first gate before the next choice
    }
    if (unsettled === 0 && waiting.length === 0) return;
    if (s.count() === 0) {
      if (unsettled === 0 && waiting.length > 0) {
        launch(waiting.shift() as (typeof waiting)[number]); // nothing else to run: start it now
        continue;
      }
      if (++idle > 10_000) throw new Error('nothing scheduled and nothing settles: a deadlock?');
      continue; // a continuation is still on its way to its next gate
    }
    idle = 0;
    await s.waitNext(1);
    steps++;
    if (steps > 2_000) throw new Error('more than 2000 steps: a livelock?');
  }
}

let dynamo: LocalDynamo;
let fake: FakeEcs;
let ecs: EcsApi;
let runs = 0;
/**
 * How many scenarios really acted, so that the property cannot pass on dry runs and refusals
 * alone: an inject answered `applied`, and a check between steps saw a live change.
 */
const acted = { scenarios: 0, applied: 0, sawLive: 0 };

beforeAll(async () => {
  dynamo = await startLocalDynamo();
  fake = await FakeEcs.start();
  ecs = new EcsApi(
    signedClientOptions(fake.endpoint, [], { requestTimeoutMs: REQUEST_TIMEOUT_MS }),
  );
});
afterAll(async () => {
  await fake.close();
  await dynamo.close();
});

async function freshWorld(kindOf: Record<Id, Kind>): Promise<World> {
  // Also drops injections the last scenario queued and never used: one is an UpdateService
  // timeout that would otherwise hit this scenario (see the harness race test below).
  fake.reset();
  for (const svc of FLEET.services) fake.services.set(svc.serviceArn, structuredClone(svc));
  for (const t of FLEET.tasks) fake.tasks.set(t.taskArn, structuredClone(t));
  return {
    kindOf,
    now: T0,
    faultText: undefined,
    fake,
    ecs,
    table: await dynamo.createTable(`races-${++runs}`),
    inflight: 0,
    sawLive: false,
  };
}

describe('interleavings of inject, restore, sweep, retries, crashes and expiry', () => {
  test('no schedule leaves a live change that its state does not own, over the cap, or a crashed experiment holding the service', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), scenarioArb, async (s, scenario) => {
        const kindOf: Record<Id, Kind> = { 'exp-a': scenario.kinds[0], 'exp-b': scenario.kinds[1] };
        const world = await freshWorld(kindOf);
        const steps: Step[] = [
          { kind: 'inject', experiment: 'exp-a', startAt: 0, ...scenario.first },
          scenario.abort,
          ...scenario.steps,
        ];
        let applied = false;
        const launches = steps.map((step, i) => ({
          startAt: step.startAt,
          launch: (): Promise<unknown> => {
            if (step.kind === 'ecs-timeout') {
              const label = `${i}:UpdateService will time out${step.applied ? '' : ' without effect'}`;
              return s.schedule(Promise.resolve(), label).then(() => {
                fake.inject('UpdateService', {
                  kind: 'slow',
                  delayMs: SLOW_MS,
                  applied: step.applied,
                });
              });
            }
            if (step.kind === 'advance') {
              return s.schedule(Promise.resolve(), `${i}:advance ${step.minutes} min`).then(() => {
                world.now += step.minutes * 60_000;
              });
            }
            const name = `${i}:${step.kind}${'experiment' in step ? `(${step.experiment})` : ''}`;
            const inv = invocation(name, step);
            const run = start(step, kindOf, gatedDeps(s, world, inv)).then(
              (r) => {
                if ((r as { status?: string }).status === 'applied') applied = true;
                if (process.env.RACE_DEBUG) console.log(name, JSON.stringify(r).slice(0, 160));
              },
              (e: unknown) => {
                if (process.env.RACE_DEBUG) console.log(name, String(e));
              },
            );
            return Promise.race([run, inv.died]);
          },
        }));
        await drive(s, world, launches);
        acted.scenarios++;
        if (applied) acted.applied++;
        if (world.sawLive) acted.sawLive++;

        // Then, past every window: the sweep ends whatever is left (twice: a restore that had to
        // wait out an applier's window is verified by the next sweep; once more for each ECS
        // timeout that may still be queued, since each can fail one sweep).
        world.now += 30 * 60_000;
        const timeouts = steps.filter((x) => x.kind === 'ecs-timeout').length;
        for (let round = 0; round < 2 + timeouts; round++) {
          const inv = invocation(`final-sweep-${round}`);
          await drive(s, world, [
            {
              startAt: 0,
              launch: () => start({ kind: 'sweep', startAt: 0 }, kindOf, gatedDeps(s, world, inv)),
            },
          ]);
        }
        const owners = liveOwners(world);
        if (owners.size > 0)
          throw new Error(
            `after the final sweep, still live: ${[...owners].join(', ')} ` +
              `(ECS answers: ${fake.calls.map((c) => `${c.operation} ${c.answer}`).join(', ')})`,
          );
        const state = await readState(world.table, SERVICE_ARN);
        if (state && state.status !== 'restored') {
          throw new Error(`after the final sweep, ${state.experimentId} is ${state.status}`);
        }
        const lease = await readLease(world.table, SERVICE_ARN);
        await acquireLease(
          world.table,
          SERVICE_ARN,
          'exp-next',
          new Date(world.now + 60_000),
          new Date(world.now),
        ).catch((error: unknown) => {
          throw new Error(
            `after the final sweep the lease is still held (${JSON.stringify(lease)}): ${String(error)}`,
          );
        });
      }),
      { numRuns: NUM_RUNS, endOnFailure: true, ...REPLAY },
    );
    // THEN it was not vacuous: many scenarios applied faults that were seen live between steps.
    console.log(
      `races: ${acted.scenarios} scenarios, ${acted.applied} with an applied inject, ` +
        `${acted.sawLive} with a live change seen between steps`,
    );
    expect(acted.applied).toBeGreaterThanOrEqual(Math.ceil(acted.scenarios / 10));
    expect(acted.sawLive).toBeGreaterThanOrEqual(Math.ceil(acted.scenarios / 10));
  }, 120_000);
});

describe('an UpdateService timeout queued by one scenario and never used (the harness race)', () => {
  // Found by the property above at { seed: 1107422787 } (its counterexample had no ecs-timeout
  // step at all): an `ecs-timeout` step that fires after the last UpdateService of its scenario
  // leaves its injection queued on the shared fake, and the next scenario's UpdateService calls
  // met it. Its sweeps then timed out without effect, through no fault of the code under test.
  test('does not reach the next scenario: the abort sent while the inject plans, then the sweep after expiry, leave nothing live', async () => {
    // GIVEN a scenario that queued UpdateService timeouts it never used (as the counterexample's
    // ECS log showed: one that applies, then two that do not)
    await freshWorld({ 'exp-a': 'az-outage', 'exp-b': 'latency' });
    fake.inject(
      'UpdateService',
      { kind: 'slow', delayMs: SLOW_MS, applied: true },
      { kind: 'slow', delayMs: SLOW_MS, applied: false },
      { kind: 'slow', delayMs: SLOW_MS, applied: false },
    );
    const kindOf: Record<Id, Kind> = { 'exp-a': 'az-outage', 'exp-b': 'latency' };
    const world = await freshWorld(kindOf);
    const direct = depsThrough(world, (_label, op) => op());

    // WHEN, as scripted by the counterexample, exp-a's az-outage inject is held at its planning
    // read of the fault document, the abort of exp-a runs (it finds no state yet) ...
    let planning!: () => void;
    const atPlanning = new Promise<void>((resolve) => (planning = resolve));
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    const held = depsThrough(world, async (label, op) => {
      if (label === 'GetParameter') {
        planning();
        await released;
      }
      return op();
    });
    const inject = start(
      { kind: 'inject', experiment: 'exp-a', startAt: 0 },
      kindOf,
      held,
    ) as Promise<{ status: string }>;
    await atPlanning;
    const abort = await restore(parseRestoreEvent({ experimentId: 'exp-a' }, direct.env), direct);
    // ... the inject goes on and applies, and past every window two sweeps run
    letGo();
    const injected = await inject;
    world.now += 30 * 60_000;
    const sweeps = [];
    for (let round = 0; round < 2; round++)
      sweeps.push(await restore(parseRestoreEvent({ sweep: true }, direct.env), direct));

    // THEN the abort found nothing to restore, the inject applied, and the first sweep restored
    // it: every UpdateService answered normally, and nothing is live
    expect(abort.status).toBe('nothing-to-restore');
    expect(injected.status).toBe('applied');
    expect(sweeps.map((r) => r.status)).toEqual(['restored', 'nothing-to-restore']);
    expect(fake.callsOf('UpdateService').map((c) => c.answer)).toEqual(['ok', 'ok']);
    expect([...liveOwners(world)]).toEqual([]);
    expect((await readState(world.table, SERVICE_ARN))?.status).toBe('restored');
  }, 60_000);
});
