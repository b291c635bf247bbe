#!/usr/bin/env node
import { App } from 'aws-cdk-lib';

import { createBlueprint } from '../lib/blueprint';
import { countingBundlingLines } from '../lib/bundling-log';
import { ConfigError, ResolvedConfig } from '../lib/config';
import { estimateMonthlyCost, renderCostEstimate } from '../lib/cost/estimate';
import { loadConfig } from '../lib/load-config';
import { renderSummary, summarizeStack } from '../lib/synth-summary';

const app = new App();
const configPath: unknown = app.node.tryGetContext('config');

let config: ResolvedConfig;
try {
  config = loadConfig(typeof configPath === 'string' ? configPath : undefined);
} catch (error) {
  if (error instanceof ConfigError) {
    // A config mistake is the user's to fix: say what is wrong, not where in our code it surfaced.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

// The CDK bundles each function when it is constructed, so both steps are counted.
const { result: assembly, bundledAssets } = countingBundlingLines(() => {
  createBlueprint(app, config);
  return app.synth();
});
// stderr, so that `cdk synth <stack>` can still pipe a template from stdout.
if (bundledAssets > 0) console.error(`Bundled ${bundledAssets} function assets.`);
console.error(renderSummary(assembly.stacks.map(summarizeStack), assembly.directory));
console.error(renderCostEstimate(estimateMonthlyCost(config)));
