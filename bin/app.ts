#!/usr/bin/env node
import { App } from 'aws-cdk-lib';

import { createBlueprint } from '../lib/blueprint';
import { ConfigError } from '../lib/config';
import { loadConfig } from '../lib/load-config';
import { renderSummary, summarizeStack } from '../lib/synth-summary';

const app = new App();
const configPath: unknown = app.node.tryGetContext('config');

try {
  const config = loadConfig(typeof configPath === 'string' ? configPath : undefined);
  createBlueprint(app, config);
} catch (error) {
  if (error instanceof ConfigError) {
    // A config mistake is the user's to fix: say what is wrong, not where in our code it surfaced.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

const assembly = app.synth();
console.error(renderSummary(assembly.stacks.map(summarizeStack), assembly.directory));
