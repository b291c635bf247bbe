import { Token } from 'aws-cdk-lib';
// esbuild bundles at synth time, as NodejsFunction's bundling does; it is not needed at run time.
// eslint-disable-next-line import-x/no-extraneous-dependencies
import { buildSync } from 'esbuild';

import type { EdgeRegion } from './geoproximity';

/**
 * The CloudFront Function (JavaScript runtime `cloudfront-js-2.0`, viewer request) that routes
 * `/api/*` to a region: the same decision code as the local game day (geoproximity.ts, with
 * viewer-request.ts), bundled by esbuild, plus a small handler that reads each region's health
 * from the associated KeyValueStore and selects the chosen region's origin.
 *
 * The handler reads one key per region (the region code; value `healthy` or `unhealthy`), one
 * after another with `await`, as the KeyValueStore helper documentation recommends over promise
 * combinators. A key that is absent makes `get()` throw, as does a failed read: both count as
 * `missing`, which the rule treats as healthy (see geoproximity.ts).
 */

/** CloudFront Functions' quota on a function's code: 10 KB, not adjustable. */
export const FUNCTION_CODE_LIMIT_BYTES = 10 * 1024;

/** The runtime the code is written for. */
export const FUNCTION_RUNTIME = 'cloudfront-js-2.0';

export interface ApiRouterFunctionCodeOptions {
  /** The regions to route to, the home region first (it takes viewers without a location). */
  readonly regions: readonly EdgeRegion[];
  /**
   * The id of the KeyValueStore to read (may be a token).
   * @default - `cf.kvs()`: the one store associated with the function
   */
  readonly keyValueStoreId?: string;
}

let bundled: string | undefined;

/**
 * The decision code as runtime 2.0 takes it: one ES module bundle with its `export` clause
 * removed, so `routeViewerRequest` and its helpers are plain top-level functions. esbuild is told
 * the syntax the runtime lacks, so a construct it cannot express fails the build instead of the
 * deployment. Built once per process: synth asks for it once per stack.
 */
export function decisionBundle(): string {
  if (bundled !== undefined) return bundled;
  const result = buildSync({
    // Only the entry point the handler calls: everything else is tree-shaken away.
    stdin: {
      contents: "export { routeViewerRequest } from './viewer-request';",
      resolveDir: __dirname,
      sourcefile: 'edge-routing-entry.ts',
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2017',
    supported: {
      class: false,
      destructuring: false,
      'for-of': false,
      generator: false,
      'async-generator': false,
      'object-rest-spread': false,
      'optional-chain': false,
      'nullish-coalescing': false,
      'default-argument': false,
      bigint: false,
      'object-extensions': false,
      'array-spread': false,
      'logical-assignment': false,
    },
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    legalComments: 'none',
    logLevel: 'silent',
  });
  const text = result.outputFiles[0].text.trim();
  const exportClause = /export\s*\{\s*routeViewerRequest\s*\};?$/;
  if (!exportClause.test(text)) {
    throw new Error(
      `the edge routing bundle should end with "export { routeViewerRequest }", got: ${text.slice(-120)}`,
    );
  }
  bundled = text.replace(exportClause, '').trim();
  return bundled;
}

function validate(options: ApiRouterFunctionCodeOptions): void {
  const problems: string[] = [];
  const { regions, keyValueStoreId } = options;
  if (regions.length === 0) problems.push('regions must list at least one region, got none');
  const seenRegions = new Set<string>();
  const seenOrigins = new Set<string>();
  regions.forEach((region, index) => {
    const name = `regions[${index}] (${region.region})`;
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region.region)) {
      problems.push(`${name}: region must be an AWS region code such as eu-west-1`);
    }
    if (seenRegions.has(region.region)) problems.push(`${name}: region is listed twice`);
    seenRegions.add(region.region);
    if (!(Number.isFinite(region.latitude) && Math.abs(region.latitude) <= 90)) {
      problems.push(`${name}: latitude must be -90..90, got ${region.latitude}`);
    }
    if (!(Number.isFinite(region.longitude) && Math.abs(region.longitude) <= 180)) {
      problems.push(`${name}: longitude must be -180..180, got ${region.longitude}`);
    }
    if (
      !Token.isUnresolved(region.bias) &&
      !(Number.isInteger(region.bias) && Math.abs(region.bias) <= 99)
    ) {
      problems.push(`${name}: bias must be an integer from -99 to 99, got ${region.bias}`);
    }
    if (region.originId.length === 0) problems.push(`${name}: originId must not be empty`);
    if (!Token.isUnresolved(region.originId) && seenOrigins.has(region.originId)) {
      problems.push(`${name}: originId ${region.originId} is used by another region`);
    }
    seenOrigins.add(region.originId);
  });
  if (keyValueStoreId !== undefined && keyValueStoreId.length === 0) {
    problems.push('keyValueStoreId must not be empty; leave it out to use the associated store');
  }
  if (problems.length > 0) {
    throw new Error(
      `the API router function has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * The complete function source for `cloudfront-js-2.0`. Its first line imports the `cloudfront`
 * module, as the origin-modification and KeyValueStore helpers require; its `handler` reads each
 * region's health, decides, and calls `cf.selectRequestOriginById` with the chosen region's
 * `originId`. The request reaches the origin with an `x-routed-region` header naming the region.
 */
export function buildApiRouterFunctionCode(options: ApiRouterFunctionCodeOptions): string {
  validate(options);
  const regions = options.regions.map((region) => ({
    region: region.region,
    latitude: region.latitude,
    longitude: region.longitude,
    bias: region.bias,
    originId: region.originId,
  }));
  const store =
    options.keyValueStoreId === undefined ? '' : JSON.stringify(options.keyValueStoreId);
  return [
    "import cf from 'cloudfront';",
    `const edgeStore = cf.kvs(${store});`,
    `const EDGE_REGIONS = ${JSON.stringify(regions)};`,
    decisionBundle(),
    'async function handler(event) {',
    '  const request = event.request;',
    '  const values = {};',
    '  for (let i = 0; i < EDGE_REGIONS.length; i++) {',
    '    const name = EDGE_REGIONS[i].region;',
    '    try {',
    '      values[name] = await edgeStore.get(name);',
    '    } catch (e) {',
    '      values[name] = undefined;',
    '    }',
    '  }',
    '  const decision = routeViewerRequest(request, EDGE_REGIONS, values);',
    '  cf.selectRequestOriginById(decision.region.originId);',
    '  return request;',
    '}',
    '',
  ].join('\n');
}
