/**
 * The service's target health, as the load balancer sees it: DescribeTargetHealth of the target
 * group, for the blast-radius cap (see `targeting.ts`). A read that fails or cannot be understood
 * refuses the experiment: counting "no answer" as "nothing unhealthy" would let an experiment take
 * more capacity than the cap allows, exactly when the load balancer is in doubt.
 */
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ServiceInputTypes,
  ServiceOutputTypes,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { FinalizeRequestMiddleware } from '@smithy/types';

import { AwsClientOptions, classifyEcsFailure, clientConfig } from './ecs-client';
import { GuardrailRefusal, isErrorLike } from './errors';
import type { TargetHealthEntry } from './targeting';

/**
 * An ELBv2 client with the shared timeouts and retry strategy. Its only call is a read, so its
 * failures are classified as the ECS reads are: throttling and 5xx retried by the standard
 * strategy, a 2xx whose body cannot be read retried too (reading again is harmless).
 */
export function createElbv2Client(options: AwsClientOptions = {}): ElasticLoadBalancingV2Client {
  const client = new ElasticLoadBalancingV2Client(clientConfig(options));
  client.middlewareStack.addRelativeTo(readClassifier, {
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: 'chaosOutcomeClassifier',
    override: true,
  });
  return client;
}

const readClassifier: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> =
  (next, context) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      throw classifyEcsFailure(error, context.commandName ?? 'UnknownCommand');
    }
  };

/** Reads the target group's health; see `ChaosDeps.targetHealth`. */
export type TargetHealthReader = () => Promise<readonly TargetHealthEntry[]>;

/**
 * DescribeTargetHealth of `targetGroupArn`, as `{ id, state }` entries. Any failure (after the
 * client's retries), and any answer without a target id or state, is a GuardrailRefusal.
 */
export function loadBalancerTargetHealth(
  client: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
): TargetHealthReader {
  const refuse = (why: string): never => {
    throw new GuardrailRefusal(
      'target-health',
      `the target health of ${targetGroupArn} is unknown (${why}); refusing rather than ` +
        'counting the unknown as healthy. Retry when DescribeTargetHealth answers',
    );
  };
  return async () => {
    let descriptions: unknown;
    try {
      const out = await client.send(
        new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }),
      );
      descriptions = out.TargetHealthDescriptions;
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
        Target?: { Id?: unknown };
        TargetHealth?: { State?: unknown };
      };
      if (typeof Target?.Id !== 'string' || typeof TargetHealth?.State !== 'string') {
        return refuse(`target ${i} of the answer has no Target.Id or TargetHealth.State`);
      }
      return { id: Target.Id, state: TargetHealth.State };
    });
  };
}
