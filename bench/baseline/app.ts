#!/usr/bin/env node
/**
 * The benchmark baseline as a CDK app, synthesized offline by `npm run bench`:
 *
 *   npx cdk synth --app "npx tsx bench/baseline/app.ts" --quiet -o <dir>
 */
import { App } from 'aws-cdk-lib';

import { createBaseline } from './baseline';

const app = new App();
createBaseline(app);
app.synth();
