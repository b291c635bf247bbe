import { ALIAS_TTL_SECONDS } from '../budgets';

/** The health-check and recovery settings a budget is derived from, as deployed. */
export interface DeployedSettings {
  readonly albIntervalSeconds: number;
  readonly albHealthyThreshold: number;
  readonly albUnhealthyThreshold: number;
  readonly route53IntervalSeconds: number;
  readonly route53FailureThreshold: number;
  /** How long until a stopped task's replacement answers its first check (Fargate: pull + start). */
  readonly taskStartSeconds: number;
  /** How long until a task notices a new fault document (poll interval with its jitter). */
  readonly faultPollSeconds: number;
  /** How long the service's own sliding window takes to fail readiness on empty responses. */
  readonly selfEjectionSeconds: number;
  /**
   * How long resolvers keep the region's alias answer (the local game day scales it in quick mode).
   * @default ALIAS_TTL_SECONDS - the ALB alias record's 60 s
   */
  readonly aliasTtlSeconds?: number;
  /**
   * The deploy gate's longest run: attempts × 4 checks × call timeout + the waits between attempts
   * (lambda/deploy-gate/gate.ts).
   * @default DEPLOY_GATE_SECONDS - the gate's defaults: 3 × 4 × 3 s + 2 × 2 s
   */
  readonly deployGateSeconds?: number;
}

export const SCENARIO_NAMES = [
  'task-loss',
  'az-outage',
  'zero-length-responder',
  'region-evacuation',
  'cache-outage',
  'latency',
] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}

export interface Budget {
  /** Fault injected → the balancer (ALB or Route 53) stops sending users to the bad part. */
  readonly detectSeconds?: number;
  /** Fault injected (or, after a restore, restored) → full healthy capacity again. */
  readonly recoverSeconds: number;
  /** Share of client requests that must succeed over the whole run. */
  readonly minSuccessRate: number;
  /** How each number was derived, for the report. */
  readonly derivation: string;
}

export interface Scenario {
  readonly name: ScenarioName;
  readonly title: string;
  readonly hypothesis: string;
  /** What is broken and how far the damage may reach. */
  readonly blastRadius: string;
  readonly budget: (s: DeployedSettings) => Budget;
}

const ejection = (s: DeployedSettings) => s.albIntervalSeconds * s.albUnhealthyThreshold;
const admission = (s: DeployedSettings) => s.albIntervalSeconds * s.albHealthyThreshold;
const aliasTtl = (s: DeployedSettings) => s.aliasTtlSeconds ?? ALIAS_TTL_SECONDS;
const regionFailover = (s: DeployedSettings) =>
  s.route53IntervalSeconds * s.route53FailureThreshold + aliasTtl(s);

export const SCENARIOS: Readonly<Record<ScenarioName, Scenario>> = {
  'task-loss': {
    name: 'task-loss',
    title: 'Lose a task',
    hypothesis:
      'When a task dies, the load balancer stops routing to it within one ejection budget and a replacement takes traffic; clients see almost no errors.',
    blastRadius: 'One task in one region (capped at the chaos task share).',
    budget: (s) => ({
      detectSeconds: ejection(s),
      recoverSeconds: s.taskStartSeconds + admission(s),
      minSuccessRate: 0.99,
      derivation: `detect = ALB interval ${s.albIntervalSeconds} s × unhealthy threshold ${s.albUnhealthyThreshold}; recover = task start ${s.taskStartSeconds} s + interval × healthy threshold ${s.albHealthyThreshold}`,
    }),
  },
  'az-outage': {
    name: 'az-outage',
    title: 'Lose an availability zone',
    hypothesis:
      "When an AZ's tasks die and its subnets are withdrawn, the other AZs carry the load within one ejection budget; after restore the AZ rejoins.",
    blastRadius: "One AZ's tasks in one region.",
    budget: (s) => ({
      detectSeconds: ejection(s),
      recoverSeconds: s.taskStartSeconds + admission(s),
      minSuccessRate: 0.98,
      derivation: `detect = ALB interval ${s.albIntervalSeconds} s × unhealthy threshold ${s.albUnhealthyThreshold}; recover after restore = task start ${s.taskStartSeconds} s + interval × healthy threshold ${s.albHealthyThreshold}`,
    }),
  },
  'zero-length-responder': {
    name: 'zero-length-responder',
    title: 'A task answers 200 with empty bodies',
    hypothesis:
      'A task that answers fast with empty bodies fails its own readiness check and is ejected; it does not attract traffic, and clients stop seeing empty responses.',
    blastRadius: 'One task in one region.',
    budget: (s) => ({
      detectSeconds: s.faultPollSeconds + s.selfEjectionSeconds + ejection(s),
      recoverSeconds: s.faultPollSeconds + admission(s),
      minSuccessRate: 0.95,
      derivation: `detect = fault poll ${s.faultPollSeconds} s + self-ejection window ${s.selfEjectionSeconds} s + ALB ejection ${ejection(s)} s; recover after restore = poll ${s.faultPollSeconds} s + interval × healthy threshold ${s.albHealthyThreshold}`,
    }),
  },
  'region-evacuation': {
    name: 'region-evacuation',
    title: 'Evacuate a region',
    hypothesis:
      'When a region fails its Route 53 string-match health check, geoproximity routing sends its users to the next region within the failover budget; writes are not lost.',
    blastRadius: 'Every task of one region; the others absorb its users.',
    budget: (s) => ({
      detectSeconds: s.faultPollSeconds + regionFailover(s),
      recoverSeconds: s.faultPollSeconds + regionFailover(s),
      minSuccessRate: 0.95,
      derivation: `detect = fault poll ${s.faultPollSeconds} s + Route 53 interval ${s.route53IntervalSeconds} s × failure threshold ${s.route53FailureThreshold} + alias TTL ${aliasTtl(s)} s; recover after restore likewise`,
    }),
  },
  'cache-outage': {
    name: 'cache-outage',
    title: 'Lose the cache',
    hypothesis:
      'When memcached stops answering, reads fall back to DynamoDB: no client errors, higher latency, and no target is ejected.',
    blastRadius: 'The cache of one region.',
    budget: (s) => ({
      recoverSeconds: s.faultPollSeconds + 10,
      minSuccessRate: 0.999,
      derivation: `no ejection expected; recover after restore = fault poll ${s.faultPollSeconds} s + circuit-breaker probe 10 s`,
    }),
  },
  latency: {
    name: 'latency',
    title: 'Slow responses',
    hypothesis:
      'Added latency on a share of responses shows on the p99 signal, but no target is ejected (slow is not broken) and requests still succeed.',
    blastRadius: 'A share of the responses of one region.',
    budget: (s) => ({
      recoverSeconds: s.faultPollSeconds + 5,
      minSuccessRate: 0.99,
      derivation: `no ejection expected; recover after restore = fault poll ${s.faultPollSeconds} s + 5 s`,
    }),
  },
};

/** Settings as the config deploys them, plus the timings of where the scenario runs. */
export function settingsFromConfig(
  healthCheck: {
    readonly albIntervalSeconds: number;
    readonly albHealthyThreshold: number;
    readonly albUnhealthyThreshold: number;
    readonly route53FailureThreshold: number;
  },
  runtime: Pick<DeployedSettings, 'taskStartSeconds' | 'faultPollSeconds' | 'selfEjectionSeconds'>,
): DeployedSettings {
  return {
    albIntervalSeconds: healthCheck.albIntervalSeconds,
    albHealthyThreshold: healthCheck.albHealthyThreshold,
    albUnhealthyThreshold: healthCheck.albUnhealthyThreshold,
    route53IntervalSeconds: ROUTE53_REQUEST_INTERVAL_SECONDS,
    route53FailureThreshold: healthCheck.route53FailureThreshold,
    ...runtime,
  };
}

/** The blueprint's Route 53 health checks run at the fast interval. */
export const ROUTE53_REQUEST_INTERVAL_SECONDS = 10;

/** The deploy gate's longest run with its defaults: 3 attempts × 4 checks × 3 s + 2 × 2 s. */
export const DEPLOY_GATE_SECONDS = 3 * 4 * 3 + 2 * 2;

/**
 * Scenarios the local game day rehearses beyond the AWS ones. `bad-deploy` is local here: in AWS
 * the deploy gate runs as the ECS lifecycle hook on a real deployment (docs/gameday-bad-deploy.md).
 */
export const LOCAL_ONLY_SCENARIO_NAMES = ['bad-deploy'] as const;
export const LOCAL_SCENARIO_NAMES = [...SCENARIO_NAMES, ...LOCAL_ONLY_SCENARIO_NAMES] as const;
export type LocalScenarioName = (typeof LOCAL_SCENARIO_NAMES)[number];

export function isLocalScenarioName(name: string): name is LocalScenarioName {
  return (LOCAL_SCENARIO_NAMES as readonly string[]).includes(name);
}

export interface LocalScenario extends Omit<Scenario, 'name'> {
  readonly name: LocalScenarioName;
}

const gateSeconds = (s: DeployedSettings) => s.deployGateSeconds ?? DEPLOY_GATE_SECONDS;

export const BAD_DEPLOY_SCENARIO: LocalScenario = {
  name: 'bad-deploy',
  title: 'Deploy a revision that answers empty 200s',
  hypothesis:
    "A new revision whose API answers fast, empty 200s is refused by the deploy gate before the load balancer sends it any user's request: users see no empty body, and the revision in service keeps serving.",
  blastRadius: 'The new revision only; production traffic never reaches it.',
  budget: (s) => ({
    detectSeconds: s.taskStartSeconds + gateSeconds(s),
    recoverSeconds: s.taskStartSeconds + gateSeconds(s),
    minSuccessRate: 0.999,
    derivation: `detect = task start ${s.taskStartSeconds} s + deploy gate ${gateSeconds(s)} s (attempts × 4 checks × call timeout + waits between attempts); recover = the same (a refused revision is stopped; the old one never stopped serving); success rate ≥ 99.9 % (users are not touched)`,
  }),
};

export const LOCAL_SCENARIOS: Readonly<Record<LocalScenarioName, LocalScenario>> = {
  ...SCENARIOS,
  'bad-deploy': BAD_DEPLOY_SCENARIO,
};
