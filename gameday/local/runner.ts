import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { SCENARIOS } from '../../lib/gameday/scenarios';
import { renderScore, scoreRun, type Timeline } from '../../lib/gameday/scoring';
import { createServiceTable, startDynaliteProcess } from '../../test/support/dynalite';
import { freePort } from '../../test/support/memcached';

import {
  buildSeries,
  cacheHitRatio,
  firstSettledWindow,
  inWindow,
  summarizeLatency,
} from './analysis';
import type { Binaries } from './binaries';
import type { Cleanup } from './cleanup';
import { isRouting, type ServerEvent } from './haproxy';
import { Load, type Sample } from './load';
import type { RunPlan } from './plan';
import type { Progress } from './progress';
import { Region, type FaultEntry } from './region';
import {
  REPORT_SCHEMA,
  renderLocalChecks,
  type LocalCheck,
  type LocalReport,
  type Marker,
  type MarkerKind,
  type PhaseNumbers,
} from './report';
import { GeoRouter, type RouterEvent } from './router';
import { verifyWrites } from './writes';

const run = promisify(execFile);

const TABLE_NAME = 'blueprint-items-gameday';
const SEED_ITEMS = 30;

export interface RegionSpec {
  readonly region: string;
  readonly availabilityZones: readonly string[];
}

export interface RunContext {
  readonly cleanup: Cleanup;
  readonly binaries: Binaries;
  readonly progress: Progress;
  /** A fresh temporary directory for the bundle, configs, fault documents and logs. */
  readonly directory: string;
  readonly repositoryRoot: string;
  /** The config's regions, nearest to the clients first. */
  readonly regions: readonly RegionSpec[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

async function seedItems(baseUrl: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `seed-${String(i + 1).padStart(2, '0')}`);
  for (const id of ids) {
    let status = 0;
    for (let attempt = 1; attempt <= 3 && !(status >= 200 && status < 300); attempt += 1) {
      status = await fetch(`${baseUrl}/api/items/${id}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Seeded ${id}`, price: 10, tags: ['game-day'] }),
        signal: AbortSignal.timeout(5000),
      }).then(
        async (response) => {
          await response.arrayBuffer();
          return response.status;
        },
        () => 0,
      );
    }
    if (!(status >= 200 && status < 300)) {
      throw new Error(`could not seed item ${id} through ${baseUrl} (last status ${status})`);
    }
  }
  return ids;
}

/** What a scenario does to the region(s), and how its detection and recovery are recognised. */
interface Actions {
  readonly description: string;
  readonly badTargets: readonly string[];
  readonly detection: 'target' | 'region' | 'none';
  readonly recovery: 'targets' | 'region' | 'cache' | 'latency';
  inject(): Promise<readonly FaultEntry[] | undefined>;
  restore?(): Promise<void>;
}

export async function runScenario(plan: RunPlan, context: RunContext): Promise<LocalReport> {
  const { cleanup, progress } = context;
  const scenario = SCENARIOS[plan.scenario];
  const startedAt = new Date();
  const say = (text: string) => progress.event(text);

  // The service, bundled once exactly as the image bundles it.
  const bundleDirectory = join(context.directory, 'dist');
  await run('sh', ['service/bundle.sh', bundleDirectory], { cwd: context.repositoryRoot });

  // One DynamoDB-API server: the global table every region shares.
  const dynalite = await startDynaliteProcess();
  cleanup.defer('dynalite', () => dynalite.stop());
  await createServiceTable(dynalite.endpoint, TABLE_NAME);

  const wanted = plan.scenario === 'region-evacuation' ? 2 : 1;
  if (context.regions.length < wanted) {
    throw new Error(
      `region-evacuation needs two regions in the config's regions, got ${context.regions.length}`,
    );
  }
  const regions = context.regions.slice(0, wanted).map(
    (spec) =>
      new Region({
        region: spec.region,
        availabilityZones: spec.availabilityZones,
        directory: context.directory,
        bundleDirectory,
        dynamoDbEndpoint: dynalite.endpoint,
        tableName: TABLE_NAME,
        plan,
        registry: cleanup.registry,
        haproxyBinary: context.binaries.haproxy,
        // Every local client is 127.0.0.1; in AWS the users come from many addresses.
        rateLimitPerMinute: Math.min(100_000_000, plan.rate * 60 * 20),
      }),
  );
  for (const region of regions) {
    cleanup.defer(`region ${region.name}`, () => region.stop());
    say(`starting ${region.name}: memcached × ${region.memcached.size || 3}, service × 3, HAProxy`);
    await region.start();
  }
  const home = regions[0];
  const zones = context.regions[0].availabilityZones;

  let clientUrl = home.haproxy.url;
  let router: GeoRouter | undefined;
  if (regions.length > 1) {
    const geo = new GeoRouter(
      regions.map((region) => ({ name: region.name, url: region.haproxy.url })),
      plan.router,
    );
    router = geo;
    cleanup.defer('router', () => geo.stop());
    clientUrl = await geo.start(await freePort());
    await geo.checkAll();
  }
  const itemIds = await seedItems(clientUrl, SEED_ITEMS);

  // Markers and live state, from the balancers' logs and the router.
  const markers: Marker[] = [];
  const balancerEvents: Array<ServerEvent & { region: string }> = [];
  const routerEvents: RouterEvent[] = [];
  const state = new Map<string, 'UP' | 'DOWN'>();
  for (const region of regions) {
    for (const server of await region.haproxy.servers()) {
      state.set(`${region.name}/${server.name}`, isRouting(server.status) ? 'UP' : 'DOWN');
    }
  }
  let loadStartedAt = Date.now();
  const mark = (at: number, kind: MarkerKind, label: string) => {
    markers.push({ at, t: Math.round((at - loadStartedAt) / 100) / 10, kind, label });
    say(`[${((at - loadStartedAt) / 1000).toFixed(1).padStart(5)} s] ${label}`);
  };
  for (const region of regions) {
    region.haproxy.onEvent((event) => {
      const target = `${region.name}/${event.server}`;
      state.set(target, event.state);
      balancerEvents.push({ ...event, region: region.name });
      mark(
        event.at,
        event.state === 'DOWN' ? 'target-down' : 'target-up',
        `HAProxy: ${target} is ${event.state}${event.reason ? ` (${event.reason})` : ''}`,
      );
    });
  }
  router?.onEvent((event) => {
    routerEvents.push(event);
    const kind: MarkerKind =
      event.kind === 'answer'
        ? 'answer'
        : event.kind === 'unhealthy'
          ? 'region-unhealthy'
          : 'region-healthy';
    mark(event.at, kind, `router: ${event.kind} ${event.region} (${event.detail})`);
  });

  const expiresAt = () =>
    new Date(Date.now() + ((plan.holdSeconds ?? 0) + 120) * 1000).toISOString();
  const taskIn = (az: string) => home.replicas.get(az)?.taskId ?? az;
  const pending: Array<Promise<unknown>> = [];
  const replace = (az: string, delaySeconds: number) => {
    pending.push(
      sleep(delaySeconds * 1000)
        .then(async () => {
          mark(Date.now(), 'replacement', `replacement task starting in ${az}`);
          const replica = await home.startReplica(az);
          mark(Date.now(), 'replacement', `replacement task ${replica.taskId} listening`);
        })
        .catch((error: unknown) =>
          say(
            `replacement in ${az} failed: ${error instanceof Error ? error.message : String(error)}`,
          ),
        ),
    );
  };

  // When the fault went in and when it was taken out (0 and undefined until then).
  let injectedAt = 0;
  let restoredAt: number | undefined;
  const actionsFor = (): Actions => {
    switch (plan.scenario) {
      case 'task-loss': {
        const az = zones[0];
        return {
          description: `SIGKILL the task in ${az}; its replacement starts ${plan.replacementDelaySeconds} s later, as ECS would start one`,
          badTargets: [`${home.name}/${az}`],
          detection: 'target',
          recovery: 'targets',
          inject: async () => {
            const killed = await home.killReplica(az);
            mark(injectedAt, 'injected', `killed ${killed?.taskId ?? az} (SIGKILL)`);
            replace(az, plan.replacementDelaySeconds);
            return undefined;
          },
        };
      }
      case 'az-outage': {
        const az = zones[1];
        return {
          description: `SIGKILL the task and the memcached node in ${az}; after the restore both start again (the task after ${plan.replacementDelaySeconds} s)`,
          badTargets: [`${home.name}/${az}`],
          detection: 'target',
          recovery: 'targets',
          inject: async () => {
            await Promise.all([home.killReplica(az), home.memcached.get(az)?.kill()]);
            mark(injectedAt, 'injected', `${az} lost: its task and memcached node killed`);
            return undefined;
          },
          restore: async () => {
            mark(
              restoredAt ?? Date.now(),
              'restored',
              `${az} restored: memcached back, task scheduled`,
            );
            await home.memcached.get(az)?.restart();
            replace(az, plan.replacementDelaySeconds);
          },
        };
      }
      case 'zero-length-responder': {
        const az = zones[0];
        const task = taskIn(az);
        const faults: FaultEntry[] = [
          { type: 'empty-response', targets: [task], expiresAt: expiresAt(), params: { ratio: 1 } },
        ];
        return {
          description: `the empty-response fault (ratio 1) on ${task}: fast 200s with empty bodies`,
          badTargets: [`${home.name}/${az}`],
          detection: 'target',
          recovery: 'targets',
          inject: async () => {
            await home.writeFaults(faults);
            mark(injectedAt, 'injected', `empty-response fault written for ${task}`);
            return faults;
          },
          restore: async () => {
            await home.writeFaults([]);
            mark(restoredAt ?? Date.now(), 'restored', 'fault document emptied');
          },
        };
      }
      case 'region-evacuation': {
        const faults: FaultEntry[] = [
          { type: 'health-fail', targets: ['*'], expiresAt: expiresAt(), params: { status: 503 } },
        ];
        return {
          description: `the health-fail fault on every task of ${home.name}: its readiness answers 503, so the string-match check fails`,
          badTargets: [home.name],
          detection: 'region',
          recovery: 'region',
          inject: async () => {
            await home.writeFaults(faults);
            mark(
              injectedAt,
              'injected',
              `health-fail fault written for every task of ${home.name}`,
            );
            return faults;
          },
          restore: async () => {
            await home.writeFaults([]);
            mark(restoredAt ?? Date.now(), 'restored', `${home.name} fault document emptied`);
          },
        };
      }
      case 'cache-outage': {
        const faults: FaultEntry[] = [
          { type: 'cache-blackhole', targets: ['*'], expiresAt: expiresAt() },
        ];
        return {
          description: `the cache-blackhole fault on every task of ${home.name}: cache calls hang until their timeout`,
          badTargets: [],
          detection: 'none',
          recovery: 'cache',
          inject: async () => {
            await home.writeFaults(faults);
            mark(injectedAt, 'injected', 'cache-blackhole fault written for every task');
            return faults;
          },
          restore: async () => {
            await home.writeFaults([]);
            mark(restoredAt ?? Date.now(), 'restored', 'fault document emptied');
          },
        };
      }
      case 'latency': {
        const az = zones[0];
        const task = taskIn(az);
        const faults: FaultEntry[] = [
          {
            type: 'latency',
            targets: [task],
            expiresAt: expiresAt(),
            params: { ratio: 1, latencyMs: plan.latencyMs },
          },
        ];
        return {
          description: `the latency fault (+${plan.latencyMs} ms on every response) on ${task}`,
          badTargets: [],
          detection: 'none',
          recovery: 'latency',
          inject: async () => {
            await home.writeFaults(faults);
            mark(
              injectedAt,
              'injected',
              `latency fault (+${plan.latencyMs} ms) written for ${task}`,
            );
            return faults;
          },
          restore: async () => {
            await home.writeFaults([]);
            mark(restoredAt ?? Date.now(), 'restored', 'fault document emptied');
          },
        };
      }
    }
  };
  const actions = actionsFor();

  // The load, and the live line.
  const writePrefix = `gd-${Date.now().toString(36)}`;
  const maxSeconds = Math.ceil(
    plan.baselineSeconds +
      (plan.holdSeconds ?? 0) +
      plan.budget.recoverSeconds +
      plan.recoveryGraceSeconds +
      plan.tailSeconds +
      60,
  );
  const load = new Load({
    url: clientUrl,
    rate: plan.rate,
    connections: plan.connections,
    timeoutSeconds: plan.requestTimeoutSeconds,
    maxSeconds,
    itemIds,
    writePrefix,
  });

  // Detection and recovery, recognised from what the balancers and the router did.
  const baselineWindow = () => {
    const from = Math.max(loadStartedAt + 1000, injectedAt - 2000);
    return inWindow(load.samples, from, injectedAt);
  };
  let baselineHitRatio: number | null = null;
  let baselineP99: number | null = null;
  const detectedAt = (): number | undefined => {
    if (actions.detection === 'target') {
      return balancerEvents.find(
        (event) =>
          event.at >= injectedAt &&
          event.state === 'DOWN' &&
          actions.badTargets.includes(`${event.region}/${event.server}`),
      )?.at;
    }
    if (actions.detection === 'region') {
      return routerEvents.find(
        (event) => event.at >= injectedAt && event.kind === 'answer' && event.region !== home.name,
      )?.at;
    }
    return undefined;
  };
  const windowMs = plan.quick ? 1000 : 2000;
  const recoveredAt = (): number | undefined => {
    switch (actions.recovery) {
      case 'targets': {
        const detected = detectedAt();
        if (detected === undefined) return undefined;
        const from = Math.max(detected, restoredAt ?? injectedAt);
        const replay = new Map<string, 'UP' | 'DOWN'>();
        for (const key of state.keys()) if (key.startsWith(`${home.name}/`)) replay.set(key, 'UP');
        for (const event of balancerEvents) {
          if (event.region !== home.name) continue;
          replay.set(`${event.region}/${event.server}`, event.state);
          const allUp = [...replay.values()].every((value) => value === 'UP');
          if (event.at >= from && allUp) return event.at;
        }
        return undefined;
      }
      case 'region':
        if (restoredAt === undefined) return undefined;
        return routerEvents.find(
          (event) =>
            event.at >= (restoredAt ?? 0) && event.kind === 'answer' && event.region === home.name,
        )?.at;
      case 'cache':
        if (restoredAt === undefined) return undefined;
        return firstSettledWindow(load.samples, restoredAt, Date.now(), windowMs, (window) => {
          const ratio = cacheHitRatio(window);
          return ratio !== null && baselineHitRatio !== null && ratio >= 0.8 * baselineHitRatio;
        });
      case 'latency':
        if (restoredAt === undefined) return undefined;
        return firstSettledWindow(load.samples, restoredAt, Date.now(), windowMs, (window) => {
          const p99 = summarizeLatency(window).p99;
          return (
            p99 !== null &&
            p99 <= (baselineP99 ?? 0) + plan.latencyMs / 2 &&
            window.every((sample) => sample.fault === undefined)
          );
        });
    }
  };

  let phase = 'baseline';
  loadStartedAt = Date.now();
  load.start();
  cleanup.defer('load', () => load.stop());
  let detectionMarked = false;
  const markDetection = () => {
    const detected = detectedAt();
    if (detectionMarked || detected === undefined) return;
    detectionMarked = true;
    mark(
      detected,
      'detected',
      actions.detection === 'region'
        ? 'detected: clients are sent to the other region'
        : `detected: ${actions.badTargets.join(', ')} ejected`,
    );
  };
  let movedAt: number | undefined;
  const markMoved = () => {
    if (movedAt !== undefined || actions.detection !== 'region' || injectedAt === 0) return;
    movedAt = load.samples.find(
      (sample) =>
        sample.at >= injectedAt && sample.region !== undefined && sample.region !== home.name,
    )?.at;
    if (movedAt !== undefined) mark(movedAt, 'traffic-moved', 'first answer from the other region');
  };
  const ticker = setInterval(() => {
    if (injectedAt > 0) {
      markDetection();
      markMoved();
    }
    const recent = inWindow(load.samples, Date.now() - 2000, Date.now());
    const latency = summarizeLatency(recent);
    const okShare =
      recent.length === 0 ? 100 : (100 * recent.filter((s) => s.ok).length) / recent.length;
    const targets = regions
      .map(
        (region) =>
          `${region.name} ${[...state]
            .filter(([name]) => name.startsWith(`${region.name}/`))
            .map(
              ([name, value]) =>
                `${name.slice(region.name.length + 1).replace(region.name, '')}:${value}`,
            )
            .join(' ')}`,
      )
      .join(' · ');
    const seconds = ((Date.now() - loadStartedAt) / 1000).toFixed(1);
    const empty = load.samples.filter((s) => s.zeroLength).length;
    progress.status(
      `${plan.scenario} ${seconds} s ${phase} · ok ${okShare.toFixed(1)}% · empty ${empty} · p50/p99 ${latency.p50 ?? '-'}/${latency.p99 ?? '-'} ms · acked ${load.acknowledged.length} · ${targets}${router ? ` · answer ${router.cachedAnswer() ?? '-'}` : ''}`,
    );
  }, 250);
  cleanup.defer('ticker', () => Promise.resolve(clearInterval(ticker)));

  await sleep(plan.baselineSeconds * 1000);
  injectedAt = Date.now();
  baselineHitRatio = cacheHitRatio(baselineWindow());
  baselineP99 = summarizeLatency(baselineWindow()).p99;
  phase = 'fault';
  const document = await actions.inject();

  if (actions.restore && plan.holdSeconds !== undefined) {
    const restoreAt = injectedAt + plan.holdSeconds * 1000;
    while (Date.now() < restoreAt) await sleep(Math.min(200, restoreAt - Date.now()));
    restoredAt = Date.now();
    phase = 'restored';
    await actions.restore();
  }
  const recoverFrom = restoredAt ?? injectedAt;
  const recoverDeadline =
    recoverFrom + (plan.budget.recoverSeconds + plan.recoveryGraceSeconds) * 1000;
  while (Date.now() < recoverDeadline && recoveredAt() === undefined) await sleep(200);
  phase = recoveredAt() === undefined ? 'not recovered' : 'recovered';
  const recovered = recoveredAt();
  const recoveredLabel = {
    targets: 'recovered: every target takes traffic again',
    region: `recovered: clients are sent to ${home.name} again`,
    cache: 'recovered: reads hit the cache again (at least 80 % of the baseline hit ratio)',
    latency: `recovered: p99 within baseline + ${plan.latencyMs / 2} ms, no faulted responses`,
  }[actions.recovery];
  if (recovered !== undefined) mark(recovered, 'recovered', recoveredLabel);
  await sleep(plan.tailSeconds * 1000);

  clearInterval(ticker);
  await load.stop();
  await Promise.all(pending);
  const loadEndedAt = Date.now();
  progress.clear();
  say('load stopped; reading every acknowledged write back...');
  const writes = await verifyWrites(clientUrl, load.acknowledged);

  // Numbers.
  markDetection();
  const detected = detectedAt();
  markMoved();
  const timeline: Timeline = {
    injectedAt,
    detectedAt: detected,
    trafficMovedAt: movedAt,
    restoredAt,
    recoveredAt: recovered,
  };
  const samples = load.samples;
  const succeeded = samples.filter((sample) => sample.ok).length;
  const score = scoreRun(timeline, plan.budget, { total: samples.length, succeeded });

  const checks: LocalCheck[] = [];
  if (actions.detection !== 'none') {
    const after = detected ?? injectedAt;
    checks.push({
      name: 'zero-length responses after ejection',
      measured: samples.filter((sample) => sample.zeroLength && sample.sentAt > after).length,
      budget: 0,
      verdict: 'pass',
      explanation: `zero-length responses to requests sent after ${detected === undefined ? 'the fault (it was never detected)' : 'the balancer stopped routing to the bad part'}`,
    });
  } else {
    checks.push({
      name: 'zero-length responses',
      measured: samples.filter((sample) => sample.zeroLength).length,
      budget: 0,
      verdict: 'pass',
      explanation: 'zero-length responses over the whole run',
    });
    checks.push({
      name: 'targets ejected',
      measured: balancerEvents.filter(
        (event) => event.at >= loadStartedAt && event.state === 'DOWN',
      ).length,
      budget: 0,
      verdict: 'pass',
      explanation: 'slow or cache-less is not broken: no target may be ejected',
    });
  }
  checks.push({
    name: 'acknowledged writes lost',
    measured: writes.lost.length + writes.unreadable.length,
    budget: 0,
    verdict: 'pass',
    explanation: `${writes.acknowledged} acknowledged writes read back; lost ones are missing or different, unreadable ones never answered`,
  });
  const localChecks = checks.map((check) => ({
    ...check,
    verdict: check.measured <= check.budget ? ('pass' as const) : ('fail' as const),
  }));
  const verdict =
    score.verdict === 'pass' && localChecks.every((check) => check.verdict === 'pass')
      ? 'pass'
      : 'fail';

  const phaseNumbers = (from: number, to: number): PhaseNumbers | undefined => {
    if (to <= from) return undefined;
    const within = samples.filter((sample) => sample.at >= from && sample.at < to);
    return {
      from,
      to,
      requests: within.length,
      succeeded: within.filter((sample) => sample.ok).length,
      zeroLength: within.filter((sample) => sample.zeroLength).length,
      cacheHitRatio: cacheHitRatio(within),
      latency: summarizeLatency(within),
    };
  };
  const faultEnd = restoredAt ?? recovered ?? loadEndedAt;
  const countBy = (values: string[]) =>
    values.reduce<Record<string, number>>((counts, value) => {
      counts[value] = (counts[value] ?? 0) + 1;
      return counts;
    }, {});
  const latency = summarizeLatency(samples);
  const zeroLength = samples.filter((sample) => sample.zeroLength);
  const summary = [
    `${scenario.title} — ${plan.scenario}${plan.quick ? ' (quick mode)' : ''}`,
    `Hypothesis: ${scenario.hypothesis}`,
    `Fault: ${actions.description}.`,
    renderScore(score),
    renderLocalChecks(localChecks),
    `Requests: ${samples.length} (${succeeded} succeeded), zero-length ${zeroLength.length}, latency p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms.`,
    `Writes: ${writes.acknowledged} acknowledged, ${writes.verified} read back intact, ${writes.lost.length} lost, ${writes.unreadable.length} unreadable.`,
    `Budget: ${plan.budget.derivation}.`,
    `Verdict: ${verdict.toUpperCase()}`,
  ].join('\n');

  const bucketMs = plan.quick ? 500 : 1000;
  return {
    schema: REPORT_SCHEMA,
    scenario: {
      name: plan.scenario,
      title: scenario.title,
      hypothesis: scenario.hypothesis,
      blastRadius: scenario.blastRadius,
    },
    quick: plan.quick,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    loadStartedAt,
    loadEndedAt,
    plan: {
      timeScale: plan.timeScale,
      balancer: plan.balancer,
      router: router ? plan.router : undefined,
      faultPollSeconds: plan.faultPollSeconds,
      baselineSeconds: plan.baselineSeconds,
      holdSeconds: actions.restore ? plan.holdSeconds : undefined,
      replacementDelaySeconds: plan.replacementDelaySeconds,
      tailSeconds: plan.tailSeconds,
      rate: plan.rate,
      connections: plan.connections,
      notes: plan.notes,
    },
    settings: plan.settings,
    budget: plan.budget,
    topology: {
      regions: regions.map((region) => ({
        name: region.name,
        loadBalancer: context.binaries.haproxyVersion,
        targets: [...region.replicas.keys()].map((az) => ({
          name: az,
          taskIds: region.tasks
            .filter((task) => task.availabilityZone === az)
            .map((task) => task.taskId),
        })),
        memcachedNodes: region.memcached.size,
      })),
      router: router !== undefined,
      database: 'dynalite (one table shared by every region, standing in for the global table)',
    },
    fault: { description: actions.description, badTargets: actions.badTargets, document },
    timeline,
    markers: [...markers].sort((a, b) => a.at - b.at),
    score,
    localChecks,
    verdict,
    summary,
    requests: {
      total: samples.length,
      succeeded,
      zeroLength: zeroLength.length,
      byStatus: countBy(samples.map((sample) => String(sample.status))),
      errors: countBy(samples.flatMap((sample) => (sample.error ? [sample.error] : []))),
      latency,
      phases: {
        baseline: phaseNumbers(loadStartedAt, injectedAt),
        fault: phaseNumbers(injectedAt, faultEnd),
        after: phaseNumbers(faultEnd, loadEndedAt),
      },
    },
    zeroLengthResponses: zeroLength.map((sample: Sample) => ({
      sentAt: sample.sentAt,
      at: sample.at,
      target: sample.target,
    })),
    writes,
    balancerEvents: balancerEvents
      .filter((event) => event.at >= loadStartedAt)
      .map((event) => ({
        at: event.at,
        target: `${event.region}/${event.server}`,
        state: event.state,
        reason: event.reason,
      })),
    series: {
      bucketSeconds: bucketMs / 1000,
      buckets: buildSeries(samples, loadStartedAt, loadEndedAt, bucketMs),
    },
    environment: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      haproxy: context.binaries.haproxyVersion,
      memcached: context.binaries.memcachedVersion,
    },
  };
}
