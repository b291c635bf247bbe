/**
 * The ECS deployment lifecycle hook around the gate: the event ECS sends, the environment, and the
 * mapping from a verdict to `hookStatus`. The hook fails closed: a malformed event, a bad
 * environment or an unexpected stage answers FAILED (ECS rolls the deployment back), never
 * SUCCEEDED.
 *
 * ECS's payload (Lambda hooks for Amazon ECS service deployments):
 *   {"executionId": "...", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT", "resourceArn": "...",
 *    "executionDetails": {"serviceArn": "...", "targetServiceRevisionArn": "...",
 *                         "testTrafficWeights": {...}, "productionTrafficWeights": {...}}}
 * and the function answers `{"hookStatus": "SUCCEEDED" | "FAILED" | "IN_PROGRESS"}` (the last one
 * with an optional `callBackDelay`; the gate finishes within one invocation and never needs it).
 */
import { randomUUID } from 'node:crypto';

import { healthTokenProblems } from '../../service/src/health-token';
import { numberEnv, requireEnv } from '../shared/env';
import { EnvironmentError, EventValidationError } from '../shared/errors';
import {
  oneOf,
  optional,
  parseObject,
  show,
  string,
  type Field,
  type Parsed,
} from '../shared/validation';

import { checkRevision, type GateOptions, type GateVerdict } from './gate';

/** Every stage ECS knows; the hook may be invoked at any it is wired to. */
export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/**
 * Where the gate checks: the new revision has 100 % of the test listener's traffic and none of
 * production's. Wire the hook to exactly these stages.
 */
export const GATED_STAGES: readonly LifecycleStage[] = ['POST_TEST_TRAFFIC_SHIFT'];

export type HookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
export interface HookResponse {
  readonly hookStatus: HookStatus;
  readonly callBackDelay?: number;
}

const ecsArn = (kind: string) =>
  string({
    pattern: new RegExp(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\\d{12}:${kind}/[A-Za-z0-9_./-]{1,400}$`),
    expects: `an ECS ${kind} ARN (arn:aws:ecs:<region>:<account>:${kind}/...)`,
  });

/** A nested object parsed with its own shape; its problems are prefixed with its name. */
function object<S extends Record<string, Field<unknown>>>(shape: S): Field<Parsed<S>> {
  return {
    optional: false,
    expects: `an object with ${Object.keys(shape).join(', ')}`,
    parse(value, name, problems) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`${name} must be ${this.expects}, got ${show(value)}`);
        return undefined;
      }
      try {
        return parseObject(shape, value, { allowUnknown: true });
      } catch (error) {
        if (!(error instanceof EventValidationError)) throw error;
        problems.push(...error.problems.map((problem) => `${name}.${problem}`));
        return undefined;
      }
    },
  };
}

/** Parses ECS's hook event; throws EventValidationError listing every problem. */
export function parseHookEvent(raw: unknown) {
  return parseObject(
    {
      executionId: string({
        pattern: /^[A-Za-z0-9_.:-]{1,200}$/,
        expects: 'the deployment execution id (1-200 of A-Z, a-z, 0-9, _ . : -)',
      }),
      lifecycleStage: oneOf(LIFECYCLE_STAGES),
      resourceArn: optional(
        string({ pattern: /^arn:aws[a-z-]*:ecs:\S{1,1000}$/, expects: 'an ECS ARN' }),
      ),
      executionDetails: object({
        serviceArn: ecsArn('service'),
        targetServiceRevisionArn: ecsArn('service-revision'),
      }),
    },
    raw,
    // ECS may add fields; those the gate does not read are ignored.
    { allowUnknown: true },
  );
}
export type HookEvent = ReturnType<typeof parseHookEvent>;

export interface DeployGateEnv {
  /** The test listener: the new revision's tasks only. */
  readonly testListenerUrl: string;
  readonly healthToken: string;
  readonly attempts: number;
  readonly spacingMs: number;
  readonly timeoutMs: number;
  /**
   * The item the gate writes: one per region, so gates running at once in two regions (the table
   * is global) never read each other's write.
   */
  readonly gateItemId: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadDeployGateEnv(env: Env = process.env): DeployGateEnv {
  const testListenerUrl = requireEnv('TEST_LISTENER_URL', env).trim();
  if (!/^https?:\/\/[^\s/]+/.test(testListenerUrl) || !URL.canParse(testListenerUrl)) {
    throw new EnvironmentError(
      `TEST_LISTENER_URL environment variable must be an http(s) URL, got ${JSON.stringify(testListenerUrl)}`,
    );
  }
  const healthToken = requireEnv('HEALTH_TOKEN', env);
  const problems = healthTokenProblems(healthToken, (value) => JSON.stringify(value));
  if (problems.length > 0) {
    throw new EnvironmentError(`HEALTH_TOKEN environment variable ${problems.join('; ')}`);
  }
  const region = requireEnv('AWS_REGION', env);
  return {
    gateItemId: `deploy-gate-${region.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}`,
    testListenerUrl,
    healthToken,
    attempts: numberEnv('GATE_ATTEMPTS', { defaultValue: 3, min: 1, max: 20, integer: true }, env),
    spacingMs: numberEnv(
      'GATE_SPACING_MS',
      { defaultValue: 2000, min: 0, max: 60_000, integer: true },
      env,
    ),
    timeoutMs: numberEnv(
      'GATE_TIMEOUT_MS',
      { defaultValue: 3000, min: 50, max: 30_000, integer: true },
      env,
    ),
  };
}

/** What the hook decided and why, for the log and the tests. */
export interface HookOutcome {
  readonly response: HookResponse;
  /** `passed`, `refused` (the verdict), `not-gated-stage`, `invalid-event`, `misconfigured`. */
  readonly outcome: 'passed' | 'refused' | 'unexpected-stage' | 'invalid-event' | 'misconfigured';
  readonly detail: string;
  readonly event?: HookEvent;
  readonly verdict?: GateVerdict;
}

export interface HookDeps {
  readonly loadEnv: () => DeployGateEnv;
  /** Overrides for tests (fetch, sleep, clock). */
  readonly gate?: Partial<GateOptions>;
}

/**
 * Verdicts already given, per execution and stage: a retried invocation (Lambda's own retry, or
 * ECS invoking again) on this instance gets the same answer instead of a second chance, and a
 * duplicate arriving while the first still runs shares its run. A retry on another instance runs
 * the checks again, with the same writes (the execution id is the gate's run id), and every attempt
 * must pass again (with fresh writes: see `runId`).
 */
const verdicts = new Map<string, Promise<HookOutcome>>();
const MAX_REMEMBERED = 100;

/** Forgets the remembered verdicts (tests). */
export function forgetVerdicts(): void {
  verdicts.clear();
}

export async function runHook(raw: unknown, deps: HookDeps): Promise<HookOutcome> {
  const failed = { hookStatus: 'FAILED' } as const;
  let event: HookEvent;
  try {
    event = parseHookEvent(raw);
  } catch (error) {
    if (!(error instanceof EventValidationError)) throw error;
    return { response: failed, outcome: 'invalid-event', detail: error.message };
  }
  let env: DeployGateEnv;
  try {
    env = deps.loadEnv();
  } catch (error) {
    if (!(error instanceof EnvironmentError)) throw error;
    return { response: failed, outcome: 'misconfigured', detail: error.message, event };
  }
  if (!GATED_STAGES.includes(event.lifecycleStage)) {
    return {
      response: failed,
      outcome: 'unexpected-stage',
      detail: `the deploy gate checks at ${GATED_STAGES.join(', ')} only, got ${event.lifecycleStage}: wire the hook to ${GATED_STAGES.join(', ')}`,
      event,
    };
  }
  const key = `${event.executionId}/${event.lifecycleStage}`;
  const known = verdicts.get(key);
  if (known) return known;
  const running = gate(event, env, deps);
  verdicts.set(key, running);
  if (verdicts.size > MAX_REMEMBERED) {
    const oldest = verdicts.keys().next().value;
    if (oldest !== undefined) verdicts.delete(oldest);
  }
  // A crash is not a verdict: the next invocation tries again.
  running.catch(() => verdicts.delete(key));
  return running;
}

async function gate(event: HookEvent, env: DeployGateEnv, deps: HookDeps): Promise<HookOutcome> {
  const verdict = await checkRevision({
    ...deps.gate,
    baseUrl: env.testListenerUrl,
    token: env.healthToken,
    attempts: env.attempts,
    spacingMs: env.spacingMs,
    timeoutMs: env.timeoutMs,
    gateItemId: env.gateItemId,
    // Fresh writes per run: a retry must not replay a write a later attempt has overwritten.
    runId: `${event.executionId.slice(0, 40)}-${randomUUID().slice(0, 8)}`,
  });
  return verdict.passed
    ? {
        response: { hookStatus: 'SUCCEEDED' },
        outcome: 'passed',
        detail: `${verdict.checks.length} checks over ${verdict.attempts} attempts passed`,
        event,
        verdict,
      }
    : {
        response: { hookStatus: 'FAILED' },
        outcome: 'refused',
        detail: verdict.problems.join('; '),
        event,
        verdict,
      };
}
