import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';

import { ResolvedConfig } from '../config';

import { RegionalStack } from './regional-stack';

export interface GlobalStackProps extends StackProps {
  /** The whole blueprint config (domain, health-check settings, biases). */
  readonly config: ResolvedConfig;
  /** The regional stacks whose load balancers this stack routes to. */
  readonly regionalStacks: readonly RegionalStack[];
}

/**
 * The edge, in the home region: DNS with geoproximity records and body-checking health checks,
 * the static site on CloudFront + S3. It deploys after every regional stack, whose load balancer
 * names reach it through cross-region references.
 */
export class GlobalStack extends Stack {
  constructor(scope: Construct, id: string, props: GlobalStackProps) {
    super(scope, id, props);
    for (const regional of props.regionalStacks) {
      this.addStackDependency(regional, 'routes to the load balancer of each region');
    }
  }
}
