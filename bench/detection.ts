/**
 * Failure-detection budgets of a whole app, read from its synthesized templates with
 * lib/budgets.ts (which fills in AWS's defaults where a template is silent), and whether a task
 * that answers 200 with an empty body is ever noticed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import {
  ALIAS_TTL_SECONDS,
  type CloudFormationTemplate,
  EDGE_WRITE_SECONDS,
  edgeFailoverBudgets,
  KVS_PROPAGATION_SECONDS,
  regionFailoverBudgets,
  targetEjectionBudgets,
} from '../lib/budgets';

import { summarize, type Summary } from './stats';

/**
 * The readiness path of the service contract (service/README.md): it answers 503 once the
 * service has served empty or malformed bodies (self-ejection) or its sentinel read comes back
 * empty, so an ALB status check on it notices a zero-length responder.
 */
export const DEEP_READINESS_PATH = '/health/ready';
/** The container variable that marks a service built on that contract. */
export const HEALTH_TOKEN_VARIABLE = 'HEALTH_TOKEN';
/** What the ALB checks when a target group names no path. */
const ALB_DEFAULT_PATH = '/';

export interface ZeroLengthDetection {
  /** Some layer fails an empty 200: the region's Route 53 check or the targets' own check. */
  readonly detected: boolean;
  /** Every target group checks a deep readiness path of a contract service. */
  readonly byTargetHealthCheck: boolean;
  /** Every Route 53 health check matches a string in the body. */
  readonly byRoute53: boolean;
  /** What was read, one sentence per layer. */
  readonly evidence: readonly string[];
}

export interface DetectionBudgets {
  readonly stacks: number;
  /** Interval × unhealthy threshold, over every target group read (`runs` = target groups). */
  readonly targetDetect: Summary;
  /** Deregistration delay. */
  readonly targetDrain: Summary;
  /** Detection plus drain: until the bad target has no requests at all. */
  readonly targetTotal: Summary;
  /** Route 53 interval × failure threshold (`runs` = health checks). */
  readonly regionDetect: Summary;
  /** Detection plus the alias TTL: resolvers have moved the region's users. */
  readonly regionTotal: Summary;
  readonly aliasTtlSeconds: number;
  /**
   * At the edge (the site's `/api/*` routing): check + alarm evaluation + write + KeyValueStore
   * propagation (`runs` = health checks feeding the edge). Absent when no template routes at the
   * edge.
   */
  readonly edgeTotal?: Summary;
  /** The allowances in `edgeTotal` that are ours rather than read from a template. */
  readonly edgeWriteSeconds: number;
  readonly kvsPropagationSeconds: number;
  readonly zeroLength: ZeroLengthDetection;
}

type Resource = { readonly Type: string; readonly Properties?: Record<string, unknown> };

function resources(template: CloudFormationTemplate, type: string): Record<string, unknown>[] {
  return Object.values((template.Resources ?? {}) as Record<string, Resource>)
    .filter((resource) => resource.Type === type)
    .map((resource) => resource.Properties ?? {});
}

/** Whether some container in the template is given HEALTH_TOKEN, i.e. runs the contract. */
function runsContractService(template: CloudFormationTemplate): boolean {
  return resources(template, 'AWS::ECS::TaskDefinition').some((taskDefinition) => {
    const containers = (taskDefinition.ContainerDefinitions ?? []) as {
      Environment?: { Name?: string }[];
    }[];
    return containers.some((container) =>
      (container.Environment ?? []).some((variable) => variable.Name === HEALTH_TOKEN_VARIABLE),
    );
  });
}

function countLine(matching: number, total: number, noun: string): string {
  return `${matching} of ${total} ${noun}${total === 1 ? '' : 's'}`;
}

/** Budgets and zero-length detection over every template of an app. */
export function detectionBudgets(templates: readonly CloudFormationTemplate[]): DetectionBudgets {
  const ejection = templates.flatMap(targetEjectionBudgets);
  const failover = templates.flatMap(regionFailoverBudgets);
  const edge = templates.flatMap(edgeFailoverBudgets);
  if (ejection.length === 0) throw new Error('no ALB target group in the templates');
  if (failover.length === 0) throw new Error('no Route 53 health check in the templates');

  const targetGroups = templates.flatMap((template) =>
    resources(template, 'AWS::ElasticLoadBalancingV2::TargetGroup').map((targetGroup) => ({
      path: typeof targetGroup.HealthCheckPath === 'string' ? targetGroup.HealthCheckPath : null,
      contract: runsContractService(template),
    })),
  );
  const deep = targetGroups.filter((tg) => tg.path === DEEP_READINESS_PATH && tg.contract);
  const paths = [...new Set(targetGroups.map((tg) => tg.path ?? `${ALB_DEFAULT_PATH} (default)`))];
  const healthChecks = templates.flatMap((template) =>
    resources(template, 'AWS::Route53::HealthCheck').map(
      (hc) => (hc.HealthCheckConfig ?? {}) as { Type?: unknown; SearchString?: unknown },
    ),
  );
  const types = [...new Set(healthChecks.map((hc) => String(hc.Type)))];
  const matching = failover.filter((budget) => budget.matchesBody).length;
  const byTargetHealthCheck = deep.length === targetGroups.length;
  const byRoute53 = matching === failover.length;

  return {
    stacks: templates.length,
    targetDetect: summarize(
      ejection.map((b) => b.detectSeconds),
      's',
    ),
    targetDrain: summarize(
      ejection.map((b) => b.drainSeconds),
      's',
    ),
    targetTotal: summarize(
      ejection.map((b) => b.detectSeconds + b.drainSeconds),
      's',
    ),
    regionDetect: summarize(
      failover.map((b) => b.detectSeconds),
      's',
    ),
    regionTotal: summarize(
      failover.map((b) => b.totalSeconds),
      's',
    ),
    aliasTtlSeconds: ALIAS_TTL_SECONDS,
    edgeTotal:
      edge.length === 0
        ? undefined
        : summarize(
            edge.map((b) => b.totalSeconds),
            's',
          ),
    edgeWriteSeconds: EDGE_WRITE_SECONDS,
    kvsPropagationSeconds: KVS_PROPAGATION_SECONDS,
    zeroLength: {
      detected: byTargetHealthCheck || byRoute53,
      byTargetHealthCheck,
      byRoute53,
      evidence: [
        `${countLine(deep.length, targetGroups.length, 'target group')} check ${DEEP_READINESS_PATH} ` +
          `on a service given ${HEALTH_TOKEN_VARIABLE} (paths checked: ${paths.join(', ')}; the ALB itself only reads the status code)`,
        `${countLine(matching, failover.length, 'Route 53 health check')} match a string in the body ` +
          `(types: ${types.join(', ')})`,
      ],
    },
  };
}

/** Every `*.template.json` a `cdk synth -o <directory>` wrote. */
export function readTemplates(directory: string): CloudFormationTemplate[] {
  const files = readdirSync(directory).filter((name) => name.endsWith('.template.json'));
  if (files.length === 0) throw new Error(`no *.template.json in ${directory}`);
  return files
    .sort()
    .map(
      (name) =>
        JSON.parse(readFileSync(path.join(directory, name), 'utf8')) as CloudFormationTemplate,
    );
}
