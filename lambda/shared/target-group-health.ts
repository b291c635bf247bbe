import { elbv2Client } from './clients/elbv2';
import { requireEnv } from './env';
import {
  TARGET_GROUP_ARNS,
  type TargetHealthReader,
  loadBalancerTargetHealth,
  parseTargetGroupArns,
} from './target-health';

/**
 * For the functions whose blast-radius cap counts healthy targets (stop-tasks, az-outage, latency,
 * empty-responses, cache-outage): DescribeTargetHealth of each of the service's target groups,
 * TARGET_GROUP_ARNS (both groups a canary deployment moves the service between).
 * Throws EnvironmentError while TARGET_GROUP_ARNS is not set or not a list of target group ARNs.
 */
export const targetGroupHealth = (): TargetHealthReader =>
  loadBalancerTargetHealth(elbv2Client(), parseTargetGroupArns(requireEnv(TARGET_GROUP_ARNS)));
