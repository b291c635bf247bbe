import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { edgeRegion } from '../../lib/edge-routing/region-coordinates';
import type { Timeline } from '../../lib/gameday/scoring';
import { createServiceTable, startDynaliteProcess } from '../../test/support/dynalite';
import { freePort } from '../../test/support/memcached';

import { scenarioActions } from './actions';
import { cacheHitRatio, firstSettledWindow, inWindow, summarizeLatency } from './analysis';
import { assembleReport } from './assemble';
import type { Binaries } from './binaries';
import type { Cleanup } from './cleanup';
import { isRouting, type ServerEvent } from './haproxy';
import { Load } from './load';
import type { RunPlan } from './plan';
import type { Progress } from './progress';
import { Region } from './region';
import type { LocalReport, Marker, MarkerKind } from './report';
import { GeoRouter, type RouterEvent } from './router';
import { allBackAt, evacuatedViewers, firstMoveAt, type RoutingSetup } from './routing';
import { SIMULATED_VIEWERS } from './viewers';
import { verifyWrites } from './writes';

const run = promisify(execFile);

const TABLE_NAME = 'blueprint-items-gameday';
const SEED_ITEMS = 30;

export interface RegionSpec {
  readonly region: string;
  readonly availabilityZones: readonly string[];
  /** @default 0 */
  readonly geoproximityBias?: number;
}

export interface RunContext {
  readonly cleanup: Cleanup;
  readonly binaries: Binaries;
  readonly progress: Progress;
  /** A fresh temporary directory for the bundle, configs, fault documents and logs. */
  readonly directory: string;
  readonly repositoryRoot: string;
  /** The config's regions, the home region first. */
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

export async function runScenario(plan: RunPlan, context: RunContext): Promise<LocalReport> {
  const { cleanup, progress } = context;
  const startedAt = new Date();
  const say = (text: string) => progress.event(text);

  const wanted = plan.scenario === 'region-evacuation' ? 2 : 1;
  if (context.regions.length < wanted) {
    throw new Error(
      `region-evacuation needs two regions in the config's regions, got ${context.regions.length}`,
    );
  }

  // The service, bundled once exactly as the image bundles it.
  const bundleDirectory = join(context.directory, 'dist');
  await run('sh', ['service/bundle.sh', bundleDirectory], { cwd: context.repositoryRoot });

  // One DynamoDB-API server: the global table every region shares.
  const dynalite = await startDynaliteProcess();
  cleanup.defer('dynalite', () => dynalite.stop());
  await createServiceTable(dynalite.endpoint, TABLE_NAME);

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
    const zones = region.availabilityZones.length;
    say(`starting ${region.name}: memcached × ${zones}, service × ${zones} (one per AZ), HAProxy`);
    await region.start();
  }
  const home = regions[0];

  let clientUrl = home.haproxy.url;
  let router: GeoRouter | undefined;
  let routing: RoutingSetup | undefined;
  if (regions.length > 1) {
    // The edge's view of each region: its coordinates and the config's bias.
    const edgeRegions = context.regions
      .slice(0, regions.length)
      .map((spec) => edgeRegion(spec.region, spec.geoproximityBias ?? 0, spec.region));
    routing = { regions: edgeRegions, viewers: SIMULATED_VIEWERS, evacuated: home.name };
    const geo = new GeoRouter(
      regions.map((region, index) => ({
        name: region.name,
        url: region.haproxy.url,
        latitude: edgeRegions[index].latitude,
        longitude: edgeRegions[index].longitude,
        bias: edgeRegions[index].bias,
      })),
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
    const who =
      event.viewer === undefined ? '' : ` for ${event.viewer || 'requests without a viewer'}`;
    mark(event.at, kind, `router: ${event.kind} ${event.region}${who} (${event.detail})`);
  });

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

  const later = (delaySeconds: number, step: () => Promise<void>) => {
    pending.push(
      sleep(delaySeconds * 1000)
        .then(step)
        .catch((error: unknown) =>
          say(`a step failed: ${error instanceof Error ? error.message : String(error)}`),
        ),
    );
  };

  // When the fault went in and when it was taken out (0 and undefined until then).
  let injectedAt = 0;
  let restoredAt: number | undefined;
  const actions = scenarioActions(plan, home, {
    mark,
    replace,
    later,
    injectedAt: () => injectedAt,
    restoredAt: () => restoredAt,
  });

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
    maxInFlight: plan.maxInFlight,
    timeoutSeconds: plan.requestTimeoutSeconds,
    maxSeconds,
    itemIds,
    writePrefix,
    viewers: routing?.viewers,
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
    if (actions.detection === 'gate') {
      const gate = actions.deployGate?.();
      return gate && !gate.verdict.passed ? gate.gateEndedAt : undefined;
    }
    if (actions.detection === 'region') {
      return routing && firstMoveAt(routerEvents, routing, injectedAt);
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
        if (restoredAt === undefined || routing === undefined) return undefined;
        return allBackAt(routerEvents, routing, restoredAt);
      case 'cache':
        if (restoredAt === undefined) return undefined;
        return firstSettledWindow(load.samples, restoredAt, Date.now(), windowMs, (window) => {
          const ratio = cacheHitRatio(window);
          return ratio !== null && baselineHitRatio !== null && ratio >= 0.8 * baselineHitRatio;
        });
      case 'gate':
        // Production never changed: recovered once the refused revision is rolled back.
        return actions.deployGate?.()?.rolledBackAt;
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
        ? `detected: ${home.name}'s viewers are sent to another region`
        : actions.detection === 'gate'
          ? 'detected: the deploy gate refused the new revision'
          : `detected: ${actions.badTargets.join(', ')} ejected`,
    );
  };
  let movedAt: number | undefined;
  const moving = new Set(routing ? evacuatedViewers(routing) : []);
  const markMoved = () => {
    if (movedAt !== undefined || actions.detection !== 'region' || injectedAt === 0) return;
    movedAt = load.samples.find(
      (sample) =>
        sample.at >= injectedAt &&
        moving.has(sample.viewer ?? '') &&
        sample.region !== undefined &&
        sample.region !== home.name,
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
      `${plan.scenario} ${seconds} s ${phase} · ok ${okShare.toFixed(1)}% · empty ${empty} · p50/p99 ${latency.p50 ?? '-'}/${latency.p99 ?? '-'} ms · acked ${load.acknowledged.length} · ${targets}${router ? ` · answers ${[...moving].map((viewer) => `${viewer}:${router.cachedAnswer(viewer) ?? '-'}`).join(' ')}` : ''}`,
    );
  }, 250);
  cleanup.defer('ticker', () => Promise.resolve(clearInterval(ticker)));

  // A real failure is not aligned with the health checks: the fault goes in at a random moment
  // within one check interval after the baseline.
  await sleep(plan.baselineSeconds * 1000 + Math.random() * plan.balancer.intervalMs);
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
    region: `recovered: ${home.name}'s viewers are all sent to it again`,
    cache: 'recovered: reads hit the cache again (at least 80 % of the baseline hit ratio)',
    latency: `recovered: p99 within baseline + ${plan.latencyMs / 2} ms, no faulted responses`,
    gate: 'recovered: the refused revision is rolled back; the running one never stopped serving',
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
  return assembleReport({
    plan,
    actions,
    startedAt,
    loadStartedAt,
    loadEndedAt,
    timeline,
    samples: load.samples,
    writes,
    markers,
    balancerEvents,
    regions,
    router: router !== undefined,
    document,
    binaries: context.binaries,
    routing,
    deployGate: actions.deployGate?.(),
  });
}
