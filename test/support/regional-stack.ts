import { App, Validations } from 'aws-cdk-lib';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { AwsSolutionsChecks } from 'cdk-nag';

import { resolveConfig } from '../../lib/load-config';
import { RegionalStack } from '../../lib/stacks/regional-stack';

/**
 * The eu-west-1 regional stack of a config with the given overrides, with cdk-nag attached and
 * bundling skipped. The image's build is the service's concern; a registry image keeps tests
 * hermetic.
 */
export function regionalStack(overrides: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig(overrides);
  const regionConfig = config.regions.find((r) => r.region === 'eu-west-1') ?? config.regions[0];
  const stack = new RegionalStack(app, 'Blueprint-eu-west-1', {
    env: { region: regionConfig.region },
    config,
    regionConfig,
    tableName: 'Blueprint-catalog',
    image: ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:22-slim'),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
