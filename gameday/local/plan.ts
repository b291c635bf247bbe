import { ALIAS_TTL_SECONDS } from '../../lib/budgets';
import type { ResolvedConfig } from '../../lib/config';
import {
  ROUTE53_REQUEST_INTERVAL_SECONDS,
  LOCAL_SCENARIOS,
  settingsFromConfig,
  type Budget,
  type DeployedSettings,
  type LocalScenarioName,
} from '../../lib/gameday/scenarios';

/**
 * What one local run does and when, derived from the blueprint config: HAProxy gets the ALB's
 * health-check settings and the router gets Route 53's, scaled down in quick mode, and the budget
 * comes from the same formulas as the AWS game day, fed with the values actually configured here.
 */

/** Quick mode runs every duration at this fraction: 5 s ALB checks become 1 s checks. */
export const QUICK_TIME_SCALE = 0.2;

/** The service's self-ejection window (service/README.md): at least 20 responses, 20 % bad, in 30 s. */
export const SELF_EJECTION_WINDOW_SECONDS = 30;
export const SELF_EJECTION_MIN_RESPONSES = 20;

/** Route 53 waits 4 s to connect and 2 s more for the answer (HTTP(S)_STR_MATCH). */
const ROUTE53_CONNECT_TIMEOUT_SECONDS = 4;
const ROUTE53_RESPONSE_TIMEOUT_SECONDS = 2;
/** Only the first 5,120 bytes of the body are searched for the string. */
export const ROUTE53_SEARCH_BYTES = 5120;

/** Slack for the replacement process itself to start and listen (measured at about 1 s). */
const PROCESS_START_ALLOWANCE_SECONDS = 3;
/** The target group's deregistration delay: CatalogService's `drainTime` default. */
const DEREGISTRATION_DELAY_SECONDS = 20;
/** The service polls the fault document every FAULTS_POLL_SECONDS with ±25 % jitter. */
const POLL_JITTER = 1.25;

export const REPLICAS_PER_REGION = 3;

export interface UserOptions {
  readonly quick: boolean;
  /** Seconds the fault is held before the restore. @default - per scenario, see holdSeconds */
  readonly durationSeconds?: number;
  /** Client requests per second (reads and writes). */
  readonly rate: number;
}

/** The load balancer's health check as HAProxy runs it. */
export interface BalancerSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** The Route 53 HTTPS_STR_MATCH health check as the local router runs it. */
export interface RouterSettings {
  readonly intervalMs: number;
  readonly failureThreshold: number;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
  readonly searchBytes: number;
  readonly token: string;
  /** How long the "resolver" keeps an answer before asking again. */
  readonly aliasTtlMs: number;
}

export interface DeployGateSettings {
  readonly attempts: number;
  readonly spacingMs: number;
  readonly timeoutMs: number;
}

/** The gate's defaults (lambda/deploy-gate/gate.ts), spacing scaled with the run. */
const DEPLOY_GATE_ATTEMPTS = 3;
const DEPLOY_GATE_SPACING_MS = 2000;
const DEPLOY_GATE_TIMEOUT_MS = 3000;
/** Calls per attempt: ready, the probe item, the gate item's write and its read back. */
const DEPLOY_GATE_CHECKS = 4;

export interface RunPlan {
  readonly scenario: LocalScenarioName;
  readonly quick: boolean;
  readonly timeScale: number;
  readonly balancer: BalancerSettings;
  readonly router: RouterSettings;
  /** FAULTS_POLL_SECONDS given to every replica. */
  readonly faultPollSeconds: number;
  readonly healthToken: string;
  /** Load before the fault. */
  readonly baselineSeconds: number;
  /** Fault injected → restored; undefined for task-loss (ECS replaces the task by itself). */
  readonly holdSeconds?: number;
  /** Stand-in for ECS placing a replacement task (image pull and start) on a free slot. */
  readonly replacementDelaySeconds: number;
  /**
   * task-loss: how long a deregistered task keeps running (in-flight requests finish) before its
   * SIGTERM, as StopTask waits the target group's deregistration delay.
   */
  readonly deregistrationDelaySeconds: number;
  /** Load after recovery, to show it holds. */
  readonly tailSeconds: number;
  /** Longest wait for recovery beyond its budget before the run gives up on it. */
  readonly recoveryGraceSeconds: number;
  readonly rate: number;
  /** Requests in flight at most: every request of one client timeout can be outstanding. */
  readonly maxInFlight: number;
  /** Client timeout per request. */
  readonly requestTimeoutSeconds: number;
  /** Added latency of the latency scenario (scaled with the checks, so it stays below their timeout). */
  readonly latencyMs: number;
  /**
   * The deploy gate as bad-deploy runs it (lambda/deploy-gate/gate.ts): its attempts, the wait
   * between them (scaled in quick mode) and each call's timeout (not scaled: a loopback call on a
   * busy machine must not time out and be mistaken for a refusal).
   */
  readonly deployGate: DeployGateSettings;
  readonly settings: DeployedSettings;
  readonly budget: Budget;
  /** Plain sentences on how the local numbers relate to the deployed ones. */
  readonly notes: readonly string[];
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

/** How long each scenario holds its fault by default, given the budget it is judged against. */
function defaultHoldSeconds(
  name: LocalScenarioName,
  quick: boolean,
  budget: Budget,
): number | undefined {
  switch (name) {
    case 'task-loss':
    case 'bad-deploy':
      return undefined;
    case 'zero-length-responder': {
      const detect = budget.detectSeconds ?? 0;
      // Bad responses keep the task self-ejected for the whole window after the fault ends, so
      // hold the fault until the window has emptied (as a 15-minute AWS game day would)...
      const windowEmptied = detect + SELF_EJECTION_WINDOW_SECONDS + 1;
      // ...and long enough that one target of three answering empty for the whole detection
      // budget still leaves the run within its success-rate budget.
      const successFloor = detect / (REPLICAS_PER_REGION * (1 - budget.minSuccessRate));
      return Math.ceil(Math.max(windowEmptied, successFloor));
    }
    case 'region-evacuation':
      return Math.ceil((budget.detectSeconds ?? 0) + (quick ? 3 : 30));
    default:
      return quick ? 6 : 30;
  }
}

export function planRun(
  scenario: LocalScenarioName,
  config: Pick<ResolvedConfig, 'healthCheck'>,
  options: UserOptions,
): RunPlan {
  const hc = config.healthCheck;
  const scale = options.quick ? QUICK_TIME_SCALE : 1;
  const balancer: BalancerSettings = {
    intervalMs: Math.round(hc.albIntervalSeconds * 1000 * scale),
    timeoutMs: Math.round(hc.albTimeoutSeconds * 1000 * scale),
    healthyThreshold: hc.albHealthyThreshold,
    unhealthyThreshold: hc.albUnhealthyThreshold,
  };
  const router: RouterSettings = {
    intervalMs: Math.round(ROUTE53_REQUEST_INTERVAL_SECONDS * 1000 * scale),
    failureThreshold: hc.route53FailureThreshold,
    connectTimeoutMs: Math.round(ROUTE53_CONNECT_TIMEOUT_SECONDS * 1000 * scale),
    responseTimeoutMs: Math.round(ROUTE53_RESPONSE_TIMEOUT_SECONDS * 1000 * scale),
    searchBytes: ROUTE53_SEARCH_BYTES,
    token: hc.token,
    aliasTtlMs: Math.round(ALIAS_TTL_SECONDS * 1000 * scale),
  };
  const faultPollSeconds = round(5 * scale);
  const rate = options.rate;
  // Each replica must see SELF_EJECTION_MIN_RESPONSES responses before its window can eject it.
  const perReplicaRate = rate / REPLICAS_PER_REGION;
  const selfEjectionSeconds = Math.ceil(SELF_EJECTION_MIN_RESPONSES / perReplicaRate);
  // The lost task's replacement reuses its slot, so it is held back until the slot must have been
  // ejected: unhealthy threshold + 1 intervals.
  const replacementDelaySeconds = round(
    ((balancer.unhealthyThreshold + 1) * balancer.intervalMs) / 1000,
  );

  const deregistrationDelaySeconds = round(DEREGISTRATION_DELAY_SECONDS * scale);

  const seconds = (ms: number) => round(ms / 1000);
  const deployGate: DeployGateSettings = {
    attempts: DEPLOY_GATE_ATTEMPTS,
    spacingMs: Math.round(DEPLOY_GATE_SPACING_MS * scale),
    timeoutMs: DEPLOY_GATE_TIMEOUT_MS,
  };
  const settings: DeployedSettings = {
    ...settingsFromConfig(
      {
        albIntervalSeconds: seconds(balancer.intervalMs),
        albHealthyThreshold: balancer.healthyThreshold,
        albUnhealthyThreshold: balancer.unhealthyThreshold,
        route53FailureThreshold: router.failureThreshold,
      },
      {
        taskStartSeconds: round(replacementDelaySeconds + PROCESS_START_ALLOWANCE_SECONDS),
        faultPollSeconds: round(faultPollSeconds * POLL_JITTER),
        selfEjectionSeconds,
      },
    ),
    route53IntervalSeconds: seconds(router.intervalMs),
    aliasTtlSeconds: seconds(router.aliasTtlMs),
    ...(scenario === 'bad-deploy'
      ? {
          deployGateSeconds: seconds(
            deployGate.attempts * DEPLOY_GATE_CHECKS * deployGate.timeoutMs +
              (deployGate.attempts - 1) * deployGate.spacingMs,
          ),
        }
      : {}),
  };
  const budget = LOCAL_SCENARIOS[scenario].budget(settings);
  const holdSeconds =
    options.durationSeconds ?? defaultHoldSeconds(scenario, options.quick, budget);
  const requestTimeoutSeconds = options.quick ? 3 : 10;

  const usesFaultDocument = scenario !== 'task-loss' && scenario !== 'az-outage';
  const notes = [
    `HAProxy checks GET /health/ready every ${seconds(balancer.intervalMs)} s (timeout ${seconds(balancer.timeoutMs)} s), ejects after ${balancer.unhealthyThreshold} failures and admits after ${balancer.healthyThreshold} passes: the ALB settings of the config${options.quick ? `, with every duration × ${QUICK_TIME_SCALE} (quick mode)` : ''}. A target counts as ejected when HAProxy logs it DOWN.`,
    ...(scenario === 'region-evacuation'
      ? [
          `The router checks each region's /health/ready every ${seconds(router.intervalMs)} s for ${JSON.stringify(router.token)} in the first ${router.searchBytes} bytes, fails a region after ${router.failureThreshold} failures (recovers after as many passes), and keeps its answer ${seconds(router.aliasTtlMs)} s (the alias TTL${options.quick ? `, × ${QUICK_TIME_SCALE}` : ''}).`,
        ]
      : []),
    ...(usesFaultDocument
      ? [
          `Replicas poll the fault document every ${faultPollSeconds} s (±25 %), so the budget allows ${settings.faultPollSeconds} s for a fault to reach them.`,
        ]
      : []),
    ...(scenario === 'bad-deploy'
      ? [
          `bad-deploy plays an ECS deployment with the deploy gate as its lifecycle hook: a task of a new revision (its fault document holds empty-response, ratio 1, bypassGuard: empty 200s leave it) starts beside the running ones on its own port, registered nowhere; a control call shows it answers empty bodies; the gate (lambda/deploy-gate/gate.ts, in this process) checks it directly, standing in for the test listener: ${deployGate.attempts} attempts ${seconds(deployGate.spacingMs)} s apart, ${seconds(deployGate.timeoutMs)} s per call. Refused, the task is stopped (the rollback) and HAProxy never gets it; had it passed, it would be registered in HAProxy as a deployment registers its target.`,
          'What differs from AWS: the gate calls the task directly instead of through the ALB test listener, and the task started here is the only one of its revision.',
        ]
      : []),
    ...(scenario === 'zero-length-responder'
      ? [
          `Self-ejection needs ${SELF_EJECTION_MIN_RESPONSES} responses; at ${round(perReplicaRate, 1)} requests/s per replica that takes ${selfEjectionSeconds} s. Bad responses keep a task self-ejected for ${SELF_EJECTION_WINDOW_SECONDS} s, so the fault is held until that window has emptied.`,
        ]
      : []),
    'What differs from AWS: HAProxy retries nothing (retries 0, no redispatch), as the ALB does not retry a failed connection on another target. Requests are plain HTTP on loopback: no TLS, no cross-zone hop.',
    ...(scenario === 'task-loss'
      ? [
          `task-loss does what StopTask does: the target is deregistered first (HAProxy's runtime API, \`set server ... state maint\`: no new request reaches it, requests on it finish), the task gets SIGTERM ${deregistrationDelaySeconds} s later (the deregistration delay of ${DEREGISTRATION_DELAY_SECONDS} s${options.quick ? ` × ${QUICK_TIME_SCALE}` : ''}) and drains and exits; the replacement gets a new port and is registered once it listens, unhealthy until it passes ${balancer.healthyThreshold} checks (an \`initial\` ALB target). "Detected" is the deregistration itself, not a failed health check. Not modelled: ALB connection draining of keep-alive connections, and a task that crashes rather than being stopped (see az-outage).`,
        ]
      : scenario === 'az-outage'
        ? [
            'az-outage kills processes outright (SIGKILL, a crash): requests reach the lost task until the health check ejects it, as they would in AWS when an AZ fails.',
            "Its mitigation, a zonal shift, starts halfway through the ejection budget: HAProxy's runtime API puts the AZ's targets in maintenance, as ARC takes an AZ out of an ALB. The shift, not the health check, then takes the AZ out, so \"detected\" is the shift here; in AWS the game day shifts after the health check ejected the AZ's targets (docs/zonal-shift.md). Not modelled: the AZ's load balancer node leaving DNS, and ARC's own delay in applying the shift.",
          ]
        : []),
    ...(usesFaultDocument
      ? []
      : [
          `A replacement task starts ${replacementDelaySeconds} s after ECS would schedule it (standing in for the image pull), plus ${PROCESS_START_ALLOWANCE_SECONDS} s allowed for the process to listen: task start ${settings.taskStartSeconds} s.`,
        ]),
  ];

  return {
    scenario,
    quick: options.quick,
    timeScale: scale,
    balancer,
    router,
    faultPollSeconds,
    healthToken: hc.token,
    baselineSeconds: options.quick ? 3 : 15,
    holdSeconds,
    replacementDelaySeconds,
    deregistrationDelaySeconds,
    tailSeconds: options.quick ? 2 : 10,
    recoveryGraceSeconds: options.quick ? 5 : 30,
    rate,
    maxInFlight: rate * requestTimeoutSeconds,
    requestTimeoutSeconds,
    latencyMs: Math.round(800 * scale),
    deployGate,
    settings,
    budget,
    notes,
  };
}
