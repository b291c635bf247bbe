import * as path from 'node:path';

import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

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
  return path.join(__dirname, '..', '..', '..', 'lambda', name, 'index.ts');
}

/**
 * How every chaos function is bundled (the benchmark bundles with exactly these settings).
 *
 * - The AWS SDK v3 is bundled rather than taken from the Lambda runtime: the code then runs with
 *   the SDK version it was tested with (the runtime's copy changes under us), and one minified file
 *   loads faster than resolving hundreds of modules.
 * - `mainFields` prefers the packages' ES module builds, which esbuild can tree-shake: the SDK
 *   clients shrink to the commands we call. This halves the bundles and the cold start
 *   (see bench/lambda-results.json).
 * - esbuild reports warnings and errors only, so `npm run synth` ends with its summary.
 */
export const CHAOS_BUNDLING = {
  target: 'node22',
  format: OutputFormat.CJS,
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: false,
  externalModules: [],
  // esbuild's per-bundle size report would bury the synth summary; warnings and errors still show.
  logLevel: LogLevel.WARNING,
} as const satisfies BundlingOptions;
