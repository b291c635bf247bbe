import * as path from 'node:path';

import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

import { LAMBDA_ROOT } from '../lambda/bundle';

/** The chaos functions, each a folder under `lambda/` with an `index.ts` exporting `handler`. */
export const CHAOS_FUNCTION_NAMES = [
  'stop-tasks',
  'az-outage',
  'empty-responses',
  'region-outage',
  'cache-outage',
  'latency',
  'restore',
  'canary',
] as const;
export type ChaosFunctionName = (typeof CHAOS_FUNCTION_NAMES)[number];

/** Where a function's handler lives. */
export function chaosEntry(name: ChaosFunctionName): string {
  return path.join(LAMBDA_ROOT, name, 'index.ts');
}

/**
 * @deprecated The project's functions are `ProjectFunction`s (lib/constructs/lambda), which share
 * one bundle. These are the settings the chaos functions had as `NodejsFunction`s, one bundle per
 * function; they stay only so that a `NodejsFunction` written against them still compiles until it
 * is switched over (replace `new NodejsFunction(` with `new ProjectFunction(`, drop `bundling`).
 */
export const CHAOS_BUNDLING = {
  target: 'node22',
  format: OutputFormat.CJS,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: false,
  externalModules: [],
  logLevel: LogLevel.WARNING,
} as const satisfies BundlingOptions;
