/**
 * The service's target health, as the load balancer sees it: DescribeTargetHealth of each of the
 * service's target groups (a canary deployment moves the service between two), for the blast-radius cap (see `targeting.ts`). A read that fails or cannot be understood
 * refuses the experiment: counting "no answer" as "nothing unhealthy" would let an experiment take
 * more capacity than the cap allows, exactly when the load balancer is in doubt.
 */
import type { Elbv2Calls } from './elbv2-api';
import { EnvironmentError, GuardrailRefusal, isErrorLike } from './errors';
import type { TargetHealthEntry } from './targeting';

/** Reads the service's target health; see `ChaosDeps.targetHealth`. */
export type TargetHealthReader = () => Promise<readonly TargetHealthEntry[]>;

/** The environment variable naming the service's target groups, comma-separated. */
export const TARGET_GROUP_ARNS = 'TARGET_GROUP_ARNS';

const TARGET_GROUP_ARN_PATTERN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

/**
 * Parses TARGET_GROUP_ARNS: one or more target group ARNs, comma-separated, no duplicates. A
 * canary deployment moves each new revision into the other of the service's two groups, so the
 * service's targets may be in either (or, mid-deployment, both). Throws EnvironmentError naming
 * the variable, the value and what is allowed.
 */
export function parseTargetGroupArns(value: string): readonly string[] {
  const arns = value.split(',').map((a) => a.trim());
  const problems = arns.flatMap((arn, i) =>
    TARGET_GROUP_ARN_PATTERN.test(arn)
      ? arns.indexOf(arn) < i
        ? [`${arn} is listed twice`]
        : []
      : [`${JSON.stringify(arn)} is not a target group ARN`],
  );
  if (problems.length > 0) {
    throw new EnvironmentError(
      `${TARGET_GROUP_ARNS} must be target group ARNs ` +
        '(arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>), comma-separated, ' +
        `each once; got ${JSON.stringify(value)}: ${problems.join('; ')}`,
    );
  }
  return arns;
}

/**
 * How one target registered in several groups (mid-deployment) counts: healthy only when it is
 * healthy in every group it is registered in, otherwise the first non-healthy state wins. The cap
 * must never count more capacity than there is: a target draining out of one group is on its way
 * out, one still initial in the other is not yet proven, and both cases refuse rather than guess.
 */
function mergeState(a: string, b: string): string {
  return a === 'healthy' ? b : a;
}

/**
 * DescribeTargetHealth of every group in `targetGroupArns`, read one after the other, as
 * `{ id, port, state }` entries: one per target id and port, however many groups it is
 * registered in (see `mergeState`). A group with no targets (the one the service left at its
 * last deployment) adds nothing. Any failed read of any group (after the client's retries), and
 * any answer without a target id or state, is a GuardrailRefusal: never counted as zero targets.
 */
export function loadBalancerTargetHealth(
  client: Elbv2Calls,
  targetGroupArns: readonly string[],
): TargetHealthReader {
  if (targetGroupArns.length === 0) {
    throw new EnvironmentError('loadBalancerTargetHealth needs at least one target group ARN');
  }
  return async () => {
    const merged = new Map<string, TargetHealthEntry>();
    for (const arn of targetGroupArns) {
      for (const entry of await readGroup(client, arn)) {
        const key = `${entry.id}:${entry.port ?? ''}`;
        const seen = merged.get(key);
        merged.set(key, seen ? { ...seen, state: mergeState(seen.state, entry.state) } : entry);
      }
    }
    return [...merged.values()];
  };
}

async function readGroup(client: Elbv2Calls, targetGroupArn: string): Promise<TargetHealthEntry[]> {
  const refuse = (why: string): never => {
    throw new GuardrailRefusal(
      'target-health',
      `the target health of ${targetGroupArn} is unknown (${why}); refusing rather than ` +
        'counting the unknown as healthy. Retry when DescribeTargetHealth answers',
    );
  };
  let descriptions: unknown;
  try {
    descriptions = await client.describeTargetHealth(targetGroupArn);
  } catch (error) {
    return refuse(
      isErrorLike(error)
        ? `${error.name}: ${error.message.split('\n')[0] ?? ''}`
        : 'DescribeTargetHealth failed',
    );
  }
  if (!Array.isArray(descriptions)) return refuse('the answer has no TargetHealthDescriptions');
  return descriptions.map((d: unknown, i): TargetHealthEntry => {
    const { Target, TargetHealth } = (d ?? {}) as {
      Target?: { Id?: unknown; Port?: unknown };
      TargetHealth?: { State?: unknown };
    };
    if (typeof Target?.Id !== 'string' || typeof TargetHealth?.State !== 'string') {
      return refuse(`target ${i} of the answer has no Target.Id or TargetHealth.State`);
    }
    return {
      id: Target.Id,
      ...(typeof Target.Port === 'number' ? { port: Target.Port } : {}),
      state: TargetHealth.State,
    };
  });
}
