import { createHash } from 'node:crypto';

import { CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A digest of the resources another stack reads through cross-region references, as their own
 * stacks render them: stack, region, logical id, type and every property.
 *
 * Why: the reading stack gets their values through `Fn::GetStackOutput`, which CloudFormation
 * resolves only when it creates or updates the reading stack. When such a resource is replaced
 * (a property that requires replacement changed), the reading stack's template stays the same, so
 * `cdk deploy` skips it and it keeps the old values. With the digest in its template, any change to
 * those resources changes the reading stack's template too, so the same `cdk deploy --all` updates
 * it and CloudFormation reads the new values.
 *
 * Constructs without a CloudFormation resource of their own (imported ones) are left out: nothing
 * of theirs can change at synth.
 */
export function producerDigest(producers: readonly IConstruct[]): string {
  const rendered = producers
    .map((producer) => producer.node.defaultChild)
    .filter((child): child is CfnResource => CfnResource.isCfnResource(child))
    .map((resource) => {
      const stack = Stack.of(resource);
      return {
        stack: stack.stackName,
        region: stack.region,
        resources: stack.resolve(resource._toCloudFormation()) as unknown,
      };
    })
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return createHash('sha256').update(JSON.stringify(rendered)).digest('hex').slice(0, 32);
}
