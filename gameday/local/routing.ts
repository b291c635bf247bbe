import { chooseRegion, type EdgeRegion } from '../../lib/edge-routing/geoproximity';

import type { Sample } from './load';
import type {
  LocalCheck,
  RoutingPhase,
  RoutingReport,
  ViewerPhaseRouting,
  ViewerRouting,
} from './report';
import type { RouterEvent } from './router';
import type { SimulatedViewer } from './viewers';

/**
 * Where the simulated viewers went in a region evacuation, and where the shared rule
 * (chooseRegion) says they should have gone: before the fault (every region healthy), during it
 * (the evacuated region unhealthy) and after the restore (every region healthy again).
 */

export interface RoutingSetup {
  /** The regions the router routes to, in config order. */
  readonly regions: readonly EdgeRegion[];
  readonly viewers: readonly SimulatedViewer[];
  /** The region the fault takes out. */
  readonly evacuated: string;
}

/** Where the rule sends a viewer when every region is healthy, or when `down` is unhealthy. */
export function ruleFor(
  viewer: SimulatedViewer,
  regions: readonly EdgeRegion[],
  down?: string,
): string {
  return chooseRegion(viewer.location, regions, (region) =>
    region === down ? 'unhealthy' : 'healthy',
  ).region.region;
}

/** The viewers the evacuated region serves while it is healthy: the ones the fault must move. */
export function evacuatedViewers(setup: RoutingSetup): string[] {
  return setup.viewers
    .filter((viewer) => ruleFor(viewer, setup.regions) === setup.evacuated)
    .map((viewer) => viewer.id);
}

/** When the first of the evacuated region's viewers was answered with another region. */
export function firstMoveAt(
  events: readonly RouterEvent[],
  setup: RoutingSetup,
  from: number,
): number | undefined {
  const moving = new Set(evacuatedViewers(setup));
  return events.find(
    (event) =>
      event.at >= from &&
      event.kind === 'answer' &&
      moving.has(event.viewer ?? '') &&
      event.region !== setup.evacuated,
  )?.at;
}

/** When the last of the evacuated region's viewers was answered with it again (all are back). */
export function allBackAt(
  events: readonly RouterEvent[],
  setup: RoutingSetup,
  from: number,
): number | undefined {
  let last = 0;
  for (const viewer of evacuatedViewers(setup)) {
    const back = events.find(
      (event) =>
        event.at >= from &&
        event.kind === 'answer' &&
        event.viewer === viewer &&
        event.region === setup.evacuated,
    );
    if (back === undefined) return undefined;
    last = Math.max(last, back.at);
  }
  return last === 0 ? undefined : last;
}

export interface PhaseWindows {
  readonly loadStartedAt: number;
  readonly injectedAt: number;
  readonly restoredAt?: number;
  readonly loadEndedAt: number;
}

/** Each viewer's responses per phase, by the region that answered, against the rule. */
export function routingReport(
  setup: RoutingSetup,
  samples: readonly Sample[],
  windows: PhaseWindows,
): RoutingReport {
  const end = windows.restoredAt ?? windows.loadEndedAt;
  const phases: ReadonlyArray<{
    readonly name: RoutingPhase;
    readonly from: number;
    readonly to: number;
    readonly down?: string;
  }> = [
    { name: 'before', from: windows.loadStartedAt, to: windows.injectedAt },
    { name: 'during', from: windows.injectedAt, to: end, down: setup.evacuated },
    ...(windows.restoredAt === undefined
      ? []
      : [{ name: 'after' as const, from: windows.restoredAt, to: windows.loadEndedAt + 1 }]),
  ];
  const viewers: ViewerRouting[] = setup.viewers.map((viewer) => {
    const mine = samples.filter((sample) => sample.viewer === viewer.id && sample.region);
    const routed: Partial<Record<RoutingPhase, ViewerPhaseRouting>> = {};
    for (const phase of phases) {
      // A request is routed when it is sent: the phase is the one it was sent in.
      const within = mine.filter(
        (sample) => sample.sentAt >= phase.from && sample.sentAt < phase.to,
      );
      const responses: Record<string, number> = {};
      for (const sample of within) {
        const region = sample.region ?? '';
        responses[region] = (responses[region] ?? 0) + 1;
      }
      const last = [...within].sort((a, b) => a.sentAt - b.sentAt).at(-1)?.region;
      routed[phase.name] = {
        responses,
        last,
        expected: ruleFor(viewer, setup.regions, phase.down),
      };
    }
    return {
      id: viewer.id,
      name: viewer.name,
      continent: viewer.continent,
      location: viewer.location,
      phases: routed,
    };
  });
  return {
    rule: 'chooseRegion (lib/edge-routing/geoproximity.ts), the CloudFront Function’s rule: the nearest region by biased great-circle distance that is not unhealthy',
    evacuated: setup.evacuated,
    regions: setup.regions.map((region) => ({
      name: region.region,
      latitude: region.latitude,
      longitude: region.longitude,
      bias: region.bias,
    })),
    viewers,
  };
}

/** The local check: every viewer's last request in each phase went where the rule says. */
export function routingCheck(report: RoutingReport): LocalCheck {
  const misses: string[] = [];
  for (const viewer of report.viewers) {
    for (const [phase, routed] of Object.entries(viewer.phases)) {
      if (routed && routed.last !== routed.expected) {
        misses.push(
          `${viewer.name} ${phase}: ${routed.last ?? 'no answer'} (rule: ${routed.expected})`,
        );
      }
    }
  }
  return {
    name: 'simulated viewers routed against the rule',
    measured: misses.length,
    budget: 0,
    verdict: misses.length === 0 ? 'pass' : 'fail',
    explanation:
      misses.length === 0
        ? `each viewer's last request before, during and after the evacuation went where the shared rule sends it`
        : `viewers whose last request in a phase went elsewhere: ${misses.join('; ')}`,
  };
}
