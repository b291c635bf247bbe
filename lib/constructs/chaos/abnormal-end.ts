import type { EventPattern } from 'aws-cdk-lib/aws-events';

/**
 * The EventBridge pattern of an execution of one of `stateMachineArns` that ended without reaching
 * its own restore: stopped, timed out, or failed with an error no catch can take. Every guarded
 * state machine hangs its restore-on-every-exit rule on it.
 */
export function abnormalEndPattern(stateMachineArns: readonly string[]): EventPattern {
  return {
    source: ['aws.states'],
    detailType: ['Step Functions Execution Status Change'],
    detail: {
      status: ['ABORTED', 'TIMED_OUT', 'FAILED'],
      stateMachineArn: [...stateMachineArns],
    },
  };
}
