import { App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

import { GLOBAL_STACK_REGION, ResolvedConfig } from './config';
import { SiteReplicaBucket } from './constructs/static-site/site-replica-bucket';
import { DataStack } from './stacks/data-stack';
import { GlobalStack } from './stacks/global-stack';
import { RegionalStack } from './stacks/regional-stack';

export interface Blueprint {
  readonly data: DataStack;
  readonly regional: readonly RegionalStack[];
  readonly global: GlobalStack;
}

/**
 * Stack names: `<project>-Data`, `<project>-<region>` per region, `<project>-Global`; and the
 * catalog table's fixed name, `<project>-catalog` (`npm run doctor` looks for both by these names).
 */
export function stackNames(config: ResolvedConfig) {
  return {
    table: `${config.projectName}-catalog`,
    data: `${config.projectName}-Data`,
    regional: (region: string) => `${config.projectName}-${region}`,
    global: `${config.projectName}-Global`,
  };
}

/**
 * Composes the stacks for a config: the data stack first (in the home region), then one stack
 * per region, then the global edge (in us-east-1). Every stack is checked by cdk-nag's
 * AwsSolutions rules.
 */
export function createBlueprint(app: App, config: ResolvedConfig): Blueprint {
  const names = stackNames(config);
  const envFor = (region: string) => ({ account: config.account, region });
  const tableName = names.table;

  const data = new DataStack(app, names.data, {
    env: envFor(config.homeRegion),
    description: `${config.projectName}: the catalog's DynamoDB global table`,
    tableName,
    deletionProtection: config.data.deletionProtection,
    replicaRegions: config.regions.map((r) => r.region).filter((r) => r !== config.homeRegion),
  });

  const regional = config.regions.map((regionConfig) => {
    const stack = new RegionalStack(app, names.regional(regionConfig.region), {
      env: envFor(regionConfig.region),
      description: `${config.projectName}: the service in ${regionConfig.region}`,
      crossRegionReferences: true,
      config,
      regionConfig,
      tableName,
    });
    stack.addStackDependency(data, 'the service reads its local replica of the global table');
    return stack;
  });

  // The site's replica bucket lives in the failover region's stack, which deploys before the
  // Global stack that replicates into it and fails over to it.
  const failoverStack = regional.find((s) => s.regionConfig.region === config.site.failoverRegion);
  const siteReplica =
    config.site.originFailover && failoverStack
      ? new SiteReplicaBucket(failoverStack, 'SiteReplica')
      : undefined;

  const global = new GlobalStack(app, names.global, {
    env: envFor(GLOBAL_STACK_REGION),
    description: `${config.projectName}: DNS, health checks and the static site`,
    crossRegionReferences: true,
    config,
    regions: regional.map((s) => ({
      region: s.regionConfig.region,
      loadBalancer: s.loadBalancer,
      relayToken: s.relayToken,
      geoproximityBias: s.regionConfig.geoproximityBias,
    })),
    siteReplicaBucket: siteReplica?.bucket,
  });

  Tags.of(app).add('project', config.projectName);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { data, regional, global };
}
