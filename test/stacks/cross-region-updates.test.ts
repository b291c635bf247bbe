import { App, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer } from 'aws-cdk-lib/aws-elasticloadbalancingv2';

import { DEFAULT_CONFIG, GLOBAL_STACK_REGION } from '../../lib/config';
import { SiteReplicaBucket } from '../../lib/constructs/static-site/site-replica-bucket';
import { GlobalStack } from '../../lib/stacks/global-stack';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

const ACCOUNT = '111111111111';

interface Producers {
  readonly loadBalancers: Record<string, ApplicationLoadBalancer>;
  readonly replica: SiteReplicaBucket;
}

/**
 * The Global stack of the default config, reading real load balancers (and the replica bucket)
 * from stand-in regional stacks; `change` edits a producer before synthesis, as a fork's code
 * change would.
 */
function globalTemplate(change: (producers: Producers) => void = () => undefined) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const loadBalancers: Record<string, ApplicationLoadBalancer> = {};
  let replica: SiteReplicaBucket | undefined;
  const regions = DEFAULT_CONFIG.regions.map((r) => {
    const stack = new Stack(app, `Blueprint-${r.region}`, {
      env: { account: ACCOUNT, region: r.region },
      crossRegionReferences: true,
    });
    const vpc = new Vpc(stack, 'Vpc', {
      availabilityZones: [...r.availabilityZones].slice(0, 2),
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: SubnetType.PUBLIC }],
    });
    const loadBalancer = new ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: true });
    loadBalancers[r.region] = loadBalancer;
    if (r.region === DEFAULT_CONFIG.site.failoverRegion) {
      replica = new SiteReplicaBucket(stack, 'SiteReplica');
    }
    Validations.of(stack).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason: 'A stand-in regional stack.',
    });
    return { region: r.region, loadBalancer, geoproximityBias: r.geoproximityBias };
  });
  if (!replica) throw new Error('the default config has a failover region');
  change({ loadBalancers, replica });
  const global = new GlobalStack(app, 'Blueprint-Global', {
    env: { account: ACCOUNT, region: GLOBAL_STACK_REGION },
    crossRegionReferences: true,
    config: DEFAULT_CONFIG,
    regions,
    siteReplicaBucket: replica.bucket,
  });
  return Template.fromStack(global).toJSON() as {
    Outputs: Record<string, { Value: unknown }>;
    Resources: Record<string, unknown>;
  };
}

const cfn = (construct: { node: { defaultChild?: unknown } }) =>
  construct.node.defaultChild as CfnResource;

describe('a producer replaced in place reaches the Global stack in the same cdk deploy --all', () => {
  // GIVEN the Global stack as deployed
  const before = globalTemplate();

  test('synthesizes the same Global template when nothing changed, so cdk deploy skips it', () => {
    // WHEN nothing changes
    const again = globalTemplate();
    // THEN
    expect(again).toEqual(before);
  });

  test('changes the Global template when a load balancer is replaced in place (a new name replaces it)', () => {
    // WHEN the eu-west-1 load balancer gets a property whose change replaces it, under the same
    // logical id: the Global stack's Fn::GetStackOutput calls read exactly what they read before
    const after = globalTemplate(({ loadBalancers }) =>
      cfn(loadBalancers['eu-west-1']).addPropertyOverride('Name', 'blueprint-renamed'),
    );
    // THEN the resources read the same outputs, but the template differs, so it is deployed
    expect(after.Resources).toEqual(before.Resources);
    expect(after.Outputs.ProducerDigest.Value).not.toEqual(before.Outputs.ProducerDigest.Value);
  });

  test('changes the Global template when the replica bucket is replaced', () => {
    // WHEN the replica bucket gets a new physical name (which replaces it)
    const after = globalTemplate(({ replica }) =>
      cfn(replica.bucket).addPropertyOverride('BucketName', 'blueprint-site-replica-2'),
    );
    // THEN
    expect(after.Outputs.ProducerDigest.Value).not.toEqual(before.Outputs.ProducerDigest.Value);
  });

  test('changes the Global template when a load balancer moves to another construct id', () => {
    // WHEN the load balancer's logical id changes (a new resource, a new output name)
    const after = globalTemplate(({ loadBalancers }) =>
      cfn(loadBalancers['us-east-1']).overrideLogicalId('AlbMoved'),
    );
    // THEN
    expect(after).not.toEqual(before);
    expect(after.Outputs.ProducerDigest.Value).not.toEqual(before.Outputs.ProducerDigest.Value);
  });
});
