import { badDeployActions, type DeployGateRecord } from './bad-deploy';
import type { RunPlan } from './plan';
import type { FaultEntry, Region } from './region';
import type { MarkerKind } from './report';

/**
 * What each scenario does to the home region, and how its detection and recovery are
 * recognised. Faults go in the way the chaos functions put them in AWS: a fault document the
 * replicas read (FAULTS_FILE here, the SSM parameter there), or a task that stops (deregistered,
 * then SIGTERM after the deregistration delay, as StopTask does).
 */

export interface Actions {
  readonly description: string;
  /** `region/AZ` targets, or regions, the fault is aimed at. */
  readonly badTargets: readonly string[];
  /**
   * target: the balancer ejects a bad target; region: the router moves clients; gate: the deploy
   * gate refuses a new revision before the balancer gets it; none: neither.
   */
  readonly detection: 'target' | 'region' | 'gate' | 'none';
  /**
   * What "recovered" means: every target up, clients back home, cache hits, latency back, or the
   * refused revision rolled back.
   */
  readonly recovery: 'targets' | 'region' | 'cache' | 'latency' | 'gate';
  /** bad-deploy: what the deploy gate saw and decided, once it has. */
  deployGate?(): DeployGateRecord | undefined;
  /** Injects the fault; resolves with the fault document written, if any. */
  inject(): Promise<readonly FaultEntry[] | undefined>;
  /** Takes the fault out (scenarios that ECS does not heal by itself). */
  restore?(): Promise<void>;
  /** az-outage's mitigation: a local zonal shift away from the lost AZ (see `zonalShift`). */
  readonly zonalShift?: LocalZonalShift;
}

/** When the local zonal shift of an AZ started and ended (ms since the epoch). */
export interface LocalZonalShift {
  readonly target: string;
  startedAt(): number | undefined;
  endedAt(): number | undefined;
}

export interface ActionHooks {
  readonly mark: (at: number, kind: MarkerKind, label: string) => void;
  /** Starts a replacement task in the AZ after the delay, as ECS would. */
  readonly replace: (az: string, delaySeconds: number) => void;
  /** Runs a step after `delaySeconds` in the background; the run waits for it before it ends. */
  readonly later: (delaySeconds: number, step: () => Promise<void>) => void;
  readonly injectedAt: () => number;
  readonly restoredAt: () => number | undefined;
}

/** How long a SIGTERMed task may drain before SIGKILL (ECS's stopTimeout default is 30 s). */
const STOP_GRACE_MS = 30_000;

export function scenarioActions(plan: RunPlan, home: Region, hooks: ActionHooks): Actions {
  const { mark, replace } = hooks;
  const zones = home.availabilityZones;
  // Faults expire by themselves well after the run, even if this process dies without a restore.
  const expiresAt = () =>
    new Date(Date.now() + ((plan.holdSeconds ?? 0) + 120) * 1000).toISOString();
  const taskIn = (az: string) => home.replicas.get(az)?.taskId ?? az;
  switch (plan.scenario) {
    case 'bad-deploy':
      return badDeployActions(plan, home, hooks);
    case 'task-loss': {
      const az = zones[0];
      const delay = plan.deregistrationDelaySeconds;
      return {
        description: `StopTask the task in ${az}: its target is deregistered at once, the task gets SIGTERM after the ${delay} s deregistration delay and drains; its replacement starts ${plan.replacementDelaySeconds} s after the stop, as ECS would start one, and is registered once it listens`,
        badTargets: [`${home.name}/${az}`],
        detection: 'target',
        recovery: 'targets',
        inject: async () => {
          const stopped = await home.deregisterReplica(az);
          const task = stopped?.taskId ?? az;
          mark(hooks.injectedAt(), 'injected', `StopTask ${task}: target deregistered`);
          if (stopped) {
            hooks.later(delay, async () => {
              mark(Date.now(), 'injected', `SIGTERM to ${task} after the deregistration delay`);
              await home.stopReplica(stopped, STOP_GRACE_MS);
              mark(Date.now(), 'injected', `${task} drained and exited`);
            });
          }
          replace(az, plan.replacementDelaySeconds);
          return undefined;
        },
      };
    }
    case 'az-outage': {
      const az = zones[1];
      // The mitigation starts halfway through the health check's ejection budget: late enough that
      // users saw the outage, early enough that the shift, not the check, takes the AZ out.
      const { intervalMs, unhealthyThreshold } = plan.balancer;
      const shiftDelaySeconds = (intervalMs * unhealthyThreshold) / 2 / 1000;
      let shiftStartedAt: number | undefined;
      let shiftEndedAt: number | undefined;
      return {
        description: `SIGKILL the task and the memcached node in ${az}; ${shiftDelaySeconds} s later a zonal shift away from ${az} (HAProxy maint on its targets); after the restore the shift ends and both start again (the task after ${plan.replacementDelaySeconds} s)`,
        badTargets: [`${home.name}/${az}`],
        detection: 'target',
        recovery: 'targets',
        zonalShift: {
          target: az,
          startedAt: () => shiftStartedAt,
          endedAt: () => shiftEndedAt,
        },
        inject: async () => {
          await Promise.all([home.killReplica(az), home.memcached.get(az)?.kill()]);
          mark(hooks.injectedAt(), 'injected', `${az} lost: its task and memcached node killed`);
          hooks.later(shiftDelaySeconds, async () => {
            if (hooks.restoredAt() !== undefined) return;
            shiftStartedAt = Date.now();
            await home.shiftAway(az);
            mark(shiftStartedAt, 'injected', `zonal shift away from ${az} started`);
          });
          return undefined;
        },
        restore: async () => {
          mark(
            hooks.restoredAt() ?? Date.now(),
            'restored',
            `${az} restored: zonal shift ended, memcached back, task scheduled`,
          );
          if (shiftStartedAt !== undefined) {
            await home.endShift(az);
            shiftEndedAt = Date.now();
          }
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
          mark(hooks.injectedAt(), 'injected', `empty-response fault written for ${task}`);
          return faults;
        },
        restore: async () => {
          await home.writeFaults([]);
          mark(hooks.restoredAt() ?? Date.now(), 'restored', 'fault document emptied');
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
            hooks.injectedAt(),
            'injected',
            `health-fail fault written for every task of ${home.name}`,
          );
          return faults;
        },
        restore: async () => {
          await home.writeFaults([]);
          mark(hooks.restoredAt() ?? Date.now(), 'restored', `${home.name} fault document emptied`);
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
          mark(hooks.injectedAt(), 'injected', 'cache-blackhole fault written for every task');
          return faults;
        },
        restore: async () => {
          await home.writeFaults([]);
          mark(hooks.restoredAt() ?? Date.now(), 'restored', 'fault document emptied');
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
            hooks.injectedAt(),
            'injected',
            `latency fault (+${plan.latencyMs} ms) written for ${task}`,
          );
          return faults;
        },
        restore: async () => {
          await home.writeFaults([]);
          mark(hooks.restoredAt() ?? Date.now(), 'restored', 'fault document emptied');
        },
      };
    }
  }
}
