#!/usr/bin/env node
import { App } from 'aws-cdk-lib';

import { createBlueprint } from '../lib/blueprint';
import { countingBundlingLines } from '../lib/bundling-log';
import { installCachedCloudFormationValidate } from '../lib/cloudformation-validate-cache';
import { ConfigError } from '../lib/config';
import { estimateMonthlyCost, renderCostEstimate } from '../lib/cost/estimate';
import { configPathFromContext, loadConfig } from '../lib/load-config';
import { renderSummary, summarizeStack } from '../lib/synth-summary';

try {
  const app = new App();
  // The CDK's CloudFormation Validate check, its report kept while the templates are unchanged.
  installCachedCloudFormationValidate();
  const config = loadConfig(configPathFromContext(app.node.tryGetContext('config')));
  // The CDK bundles each function when it is constructed, so both steps are counted.
  const { result: assembly, bundledAssets } = countingBundlingLines(() => {
    createBlueprint(app, config);
    return app.synth();
  });
  // stderr, so that `cdk synth <stack>` can still pipe a template from stdout.
  // Every ProjectFunction deploys one shared asset, so this is 1 however many functions there are.
  if (bundledAssets > 0) {
    console.error(`Bundled ${bundledAssets} Lambda code asset${bundledAssets === 1 ? '' : 's'}.`);
  }
  console.error(renderSummary(assembly.stacks.map(summarizeStack), assembly.directory));
  console.error(renderCostEstimate(estimateMonthlyCost(config)));
} catch (error) {
  if (error instanceof ConfigError) {
    // A config mistake is the user's to fix: say what is wrong, not where in our code it surfaced.
    console.error(error.message);
    process.exit(1);
  }
  // The config validation should refuse every value a construct refuses; if one slips through,
  // or synth fails for another reason (an output directory it cannot write), the user still gets
  // the message rather than our stack. `cdk synth --debug` (which sets CDK_DEBUG) shows the trace.
  if (process.env.CDK_DEBUG === 'true' || !(error instanceof Error)) throw error;
  console.error(
    `Synth failed: ${error.message}\n` +
      'If a config value caused this, lib/config-validation.ts should have refused it: please report it. ' +
      'Run `npx cdk synth --debug` for the stack trace.',
  );
  process.exit(1);
}
