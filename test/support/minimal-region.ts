import { App, Stack } from 'aws-cdk-lib';
import { SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import {
  Cluster,
  ContainerImage,
  FargateService,
  FargateTaskDefinition,
  PropagatedTagSource,
} from 'aws-cdk-lib/aws-ecs';

// The feature flags `cdk synth` runs with (cdk.json), so templates here match real ones.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { context: cdkJsonContext } = require('../../cdk.json') as {
  context: Record<string, unknown>;
};

/**
 * A fresh app with the smallest region a construct test needs around it: a two-AZ VPC, a cluster
 * and a Fargate service of 3 tasks on port 8080, with tags propagated. Bundling is skipped.
 */
export function minimalRegion(region: string) {
  const app = new App({ context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Region', { env: { account: '111111111111', region } });
  const vpc = new Vpc(stack, 'Vpc', {
    availabilityZones: [`${region}a`, `${region}b`],
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: SubnetType.PUBLIC },
      { name: 'Private', subnetType: SubnetType.PRIVATE_WITH_EGRESS },
    ],
  });
  const cluster = new Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new FargateTaskDefinition(stack, 'TaskDef');
  taskDefinition.addContainer('app', {
    image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
    portMappings: [{ containerPort: 8080 }],
  });
  const service = new FargateService(stack, 'Service', {
    cluster,
    taskDefinition,
    desiredCount: 3,
    propagateTags: PropagatedTagSource.SERVICE,
  });
  return { app, stack, vpc, cluster, service };
}
