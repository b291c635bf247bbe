import { checkRevision, type GateVerdict } from '../../lambda/deploy-gate/gate';

import type { ActionHooks, Actions } from './actions';
import type { RunPlan } from './plan';
import type { FaultEntry, Region } from './region';

/**
 * bad-deploy: an ECS deployment whose new revision answers fast, empty 200s, with the deploy gate
 * as its lifecycle hook. A task of the new revision starts beside the running ones, registered
 * nowhere; a control call shows what it answers; the gate checks it directly (the test listener's
 * stand-in); refused, the task is stopped and HAProxy never gets it. Had the gate passed it, it
 * would be registered in HAProxy in its AZ's slot, as a deployment registers its target, so a
 * gate that lets it through shows in the report.
 */

/** What a plain client got from the new revision, straight from its port, before the gate ran. */
export interface ControlCall {
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
  /** The service's `x-fault-injected` header, when set. */
  readonly faultInjected?: string;
  readonly error?: string;
}

export interface DeployGateRecord {
  readonly revisionTaskId: string;
  readonly revisionUrl: string;
  readonly control: ControlCall;
  readonly verdict: GateVerdict;
  /** ms since the epoch. */
  readonly gateStartedAt: number;
  readonly gateEndedAt: number;
  /** Whether the new revision was registered in HAProxy (only when the gate passed it). */
  readonly registered: boolean;
  /** When the refused revision's task had stopped (the rollback). */
  readonly rolledBackAt?: number;
}

/** The new revision's configuration: every request of its API answers an empty 200. */
const REVISION = 'rev2';
const CONTROL_PATH = '/api/items/_health-sentinel';

async function controlCall(url: string, timeoutMs: number): Promise<ControlCall> {
  try {
    const response = await fetch(`${url}${CONTROL_PATH}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = new Uint8Array(await response.arrayBuffer());
    const fault = response.headers.get('x-fault-injected');
    return {
      path: CONTROL_PATH,
      status: response.status,
      bytes: body.byteLength,
      ...(fault ? { faultInjected: fault } : {}),
    };
  } catch (error) {
    return {
      path: CONTROL_PATH,
      status: 0,
      bytes: 0,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

export function badDeployActions(plan: RunPlan, home: Region, hooks: ActionHooks): Actions {
  const { mark } = hooks;
  const az = home.availabilityZones[0];
  const expiresAt = () => new Date(Date.now() + 600_000).toISOString();
  let record: DeployGateRecord | undefined;
  const gate = plan.deployGate;
  return {
    description: `deploy a new revision (${REVISION}) whose API answers empty 200s (empty-response, ratio 1, bypassGuard) in ${az}; the deploy gate checks it before HAProxy gets it (${gate.attempts} attempts, ${gate.timeoutMs / 1000} s per call)`,
    badTargets: [`${home.name}/${az}`],
    detection: 'gate',
    recovery: 'gate',
    deployGate: () => record,
    inject: async () => {
      const faults: FaultEntry[] = [
        { type: 'empty-response', targets: ['*'], expiresAt: expiresAt(), params: { ratio: 1 } },
      ];
      mark(hooks.injectedAt(), 'injected', `deployment of ${REVISION} started in ${az}`);
      const task = await home.startUnregistered(az, REVISION, faults);
      const url = `http://127.0.0.1:${task.port}`;
      mark(Date.now(), 'replacement', `${REVISION} task ${task.taskId} listening, not in HAProxy`);

      const control = await controlCall(url, gate.timeoutMs);
      mark(
        Date.now(),
        'answer',
        `control: GET ${control.path} on ${task.taskId} answered ${control.status} with ${control.bytes} bytes`,
      );

      const gateStartedAt = Date.now();
      const verdict = await checkRevision({
        baseUrl: url,
        token: plan.healthToken,
        attempts: gate.attempts,
        spacingMs: gate.spacingMs,
        timeoutMs: gate.timeoutMs,
      });
      const gateEndedAt = Date.now();
      record = {
        revisionTaskId: task.taskId,
        revisionUrl: url,
        control,
        verdict,
        gateStartedAt,
        gateEndedAt,
        registered: false,
      };
      if (verdict.passed) {
        // What a deployment does with a revision its hook passed: its target is registered.
        mark(gateEndedAt, 'detected', `deploy gate PASSED ${task.taskId}: registering it`);
        await home.haproxy.register(az, task.port);
        record = { ...record, registered: true };
        return faults;
      }
      mark(
        gateEndedAt,
        'detected',
        `deploy gate REFUSED ${task.taskId}: ${verdict.problems[0] ?? 'no reason'}`,
      );
      await task.process.stop(3000);
      const rolledBackAt = Date.now();
      record = { ...record, rolledBackAt };
      mark(rolledBackAt, 'restored', `rolled back: ${task.taskId} stopped, HAProxy never got it`);
      return faults;
    },
  };
}
