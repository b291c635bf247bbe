import { App, Stack } from 'aws-cdk-lib';
import { KeyValueStore } from 'aws-cdk-lib/aws-cloudfront';

import { AWS_REGIONS } from '../../lib/aws-regions';
import {
  buildApiRouterFunctionCode,
  FUNCTION_CODE_LIMIT_BYTES,
} from '../../lib/edge-routing/function-code';
import { edgeRegion } from '../../lib/edge-routing/region-coordinates';

import { DEFAULT_REGIONS, originIdOf, PLACES, ROUTING_CASES, type Place } from './cases';
import { runFunction, viewerRequest, type FakeStore } from './run-function';
import { runtimeViolations } from './runtime-features';

/**
 * The CloudFront Function as CloudFront gets it, executed in Node (run-function.ts) against the
 * same table of cases as the decision module, plus what only the function does: read the store,
 * survive its failures, select the origin, and stay within runtime 2.0's size and features.
 */

const located = (place: Place | undefined): Record<string, string> =>
  place === undefined
    ? {}
    : {
        'cloudfront-viewer-latitude': String(place.latitude),
        'cloudfront-viewer-longitude': String(place.longitude),
        'cloudfront-viewer-country': 'ZZ',
      };

describe('the bundled function, table-driven', () => {
  test.each(ROUTING_CASES.map((c) => [c.title, c] as const))('%s', async (_title, routingCase) => {
    // GIVEN the function built for the case's regions, and the case's store
    const code = buildApiRouterFunctionCode({ regions: routingCase.regions });
    const store: FakeStore = { values: routingCase.store };

    // WHEN a viewer request from the case's viewer runs through it
    const run = await runFunction(code, store, viewerRequest(located(routingCase.viewer)));

    // THEN it selects the expected region's origin, once, and says so to the origin
    expect(run.selectedOrigins).toEqual([originIdOf(routingCase.expected)]);
    expect(run.result).toBe(run.event.request);
    expect(run.event.request.headers['x-routed-region']).toEqual({ value: routingCase.expected });
  });
});

describe('the bundled function, reading the store', () => {
  const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });
  const healthy = { 'us-east-1': 'healthy', 'eu-west-1': 'healthy', 'ap-northeast-1': 'healthy' };

  test('reads every region’s key, one read at a time, even when each read is slow', async () => {
    const run = await runFunction(
      code,
      { values: healthy, delayMs: 5 },
      viewerRequest(located(PLACES.berlin)),
    );

    expect(run.reads).toEqual(['us-east-1', 'eu-west-1', 'ap-northeast-1']);
    expect(run.maxConcurrentReads).toBe(1);
    expect(run.selectedOrigins).toEqual([originIdOf('eu-west-1')]);
  });

  test('a failed read of the nearest region’s key counts as missing: the region still takes the viewer', async () => {
    const run = await runFunction(
      code,
      { values: { ...healthy, 'us-east-1': 'unhealthy' }, failing: ['us-east-1'] },
      viewerRequest(located(PLACES.newYork)),
    );

    expect(run.selectedOrigins).toEqual([originIdOf('us-east-1')]);
  });

  test('every read failing routes by geography alone, not to nowhere', async () => {
    const run = await runFunction(
      code,
      { values: {}, failing: ['us-east-1', 'eu-west-1', 'ap-northeast-1'] },
      viewerRequest(located(PLACES.sydney)),
    );

    expect(run.selectedOrigins).toEqual([originIdOf('ap-northeast-1')]);
  });

  test.each([
    ['" UNHEALTHY\\n"', ' UNHEALTHY\n', 'eu-west-1'],
    ['"Unhealthy"', 'Unhealthy', 'eu-west-1'],
    ['"degraded" (not a health value: missing, so healthy)', 'degraded', 'us-east-1'],
    ['"" (empty: missing, so healthy)', '', 'us-east-1'],
  ])('reads the value %s for us-east-1 as the rule expects', async (_what, value, expected) => {
    const run = await runFunction(
      code,
      { values: { ...healthy, 'us-east-1': value } },
      viewerRequest(located(PLACES.newYork)),
    );

    expect(run.selectedOrigins).toEqual([originIdOf(expected)]);
  });

  test('uses the one associated store when no store id is given', async () => {
    const run = await runFunction(code, { values: healthy }, viewerRequest({}));

    expect(run.storeIds).toEqual([undefined]);
  });

  test('opens the named store when a store id is given', async () => {
    const named = buildApiRouterFunctionCode({
      regions: DEFAULT_REGIONS,
      keyValueStoreId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    });

    const run = await runFunction(named, { values: healthy }, viewerRequest({}));

    expect(run.storeIds).toEqual(['a1b2c3d4-5678-90ab-cdef-EXAMPLE11111']);
  });
});

describe('the bundled function, reading the viewer’s location', () => {
  const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });
  const store: FakeStore = {
    values: { 'us-east-1': 'unhealthy', 'eu-west-1': 'healthy', 'ap-northeast-1': 'healthy' },
  };

  test.each([
    ['only a latitude', { 'cloudfront-viewer-latitude': '35.68' }],
    ['empty values', { 'cloudfront-viewer-latitude': '', 'cloudfront-viewer-longitude': ' ' }],
    [
      'values that are not numbers',
      { 'cloudfront-viewer-latitude': 'north', 'cloudfront-viewer-longitude': '139.69' },
    ],
    [
      'a latitude out of range',
      { 'cloudfront-viewer-latitude': '135.68', 'cloudfront-viewer-longitude': '139.69' },
    ],
  ])('treats %s as no location: the first listed region not unhealthy', async (_what, headers) => {
    const run = await runFunction(code, store, viewerRequest(headers));

    // us-east-1 is listed first but unhealthy; Tokyo's coordinates would have chosen ap-northeast-1.
    expect(run.selectedOrigins).toEqual([originIdOf('eu-west-1')]);
  });
});

/**
 * Headers no edge function may add ("Restrictions on all edge functions", HTTP headers): a request
 * that gains one fails CloudFront's validation and the viewer gets a 502.
 */
const DISALLOWED_HEADERS = [
  /^connection$/,
  /^expect$/,
  /^keep-alive$/,
  /^proxy-authenticate$/,
  /^proxy-authorization$/,
  /^proxy-connection$/,
  /^trailer$/,
  /^upgrade$/,
  /^x-accel-/,
  /^x-amz-cf-/,
  /^x-amzn-/,
  /^x-cache$/,
  /^x-edge-/,
  /^x-forwarded-proto$/,
  /^x-real-ip$/,
];

describe('the headers the function adds', () => {
  test('are none CloudFront disallows (an x-edge-* header would turn every API call into a 502)', async () => {
    // GIVEN a request with only the location headers
    const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });
    const event = viewerRequest(located(PLACES.tokyo));
    const before = new Set(Object.keys(event.request.headers));

    // WHEN the function runs
    await runFunction(code, { values: {} }, event);

    // THEN what it added is allowed
    const added = Object.keys(event.request.headers).filter((name) => !before.has(name));
    expect(added.length).toBeGreaterThan(0);
    expect(added.filter((name) => DISALLOWED_HEADERS.some((rule) => rule.test(name)))).toEqual([]);
  });
});

describe('the function code within runtime 2.0’s limits', () => {
  test('the default regions’ function is well under the 10 KB code limit', () => {
    const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });
    const bytes = Buffer.byteLength(code, 'utf8');

    expect(FUNCTION_CODE_LIMIT_BYTES).toBe(10_240);
    expect(bytes).toBeLessThanOrEqual(FUNCTION_CODE_LIMIT_BYTES / 2);
  });

  test('a function for every AWS region at once still fits in 10 KB', () => {
    const regions = AWS_REGIONS.map((region) => edgeRegion(region, -99, `api-origin-${region}`));
    const code = buildApiRouterFunctionCode({ regions, keyValueStoreId: 'x'.repeat(36) });

    expect(Buffer.byteLength(code, 'utf8')).toBeLessThanOrEqual(FUNCTION_CODE_LIMIT_BYTES);
  });

  test('uses only what runtime 2.0 documents: one import of cloudfront, one top-level async handler', () => {
    const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS, keyValueStoreId: 'id' });

    expect(runtimeViolations(code)).toEqual([]);
  });

  test.each([
    ['a for-of loop', 'for (const x of [1]) {}', 'for-of'],
    ['a class', 'class A {}', 'class'],
    ['destructuring', 'const { a } = { a: 1 };', 'destructuring'],
    ['a spread', 'const b = [...[1]];', 'spread'],
    ['optional chaining', 'const c = EDGE_REGIONS?.length;', 'optional chaining'],
    ['an async closure', 'const d = async () => 1;', 'async closures are not supported'],
    ['a timer', 'setTimeout(() => 1, 1);', 'setTimeout'],
    ['an export', 'export const e = 1;', 'export'],
  ])('the feature check itself refuses %s', (_what, statement, expected) => {
    const code = buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });

    const violations = runtimeViolations(`${code}${statement}\n`);

    expect(violations.map((violation) => violation.what).join('\n')).toContain(expected);
  });
});

describe('bundling', () => {
  test('bundles the decision code once per process, however many functions synth builds', () => {
    // GIVEN a fresh copy of the module, with esbuild's buildSync watched
    const esbuild = jest.requireActual<typeof import('esbuild')>('esbuild');
    const buildSync = jest.fn(esbuild.buildSync);
    jest.isolateModules(() => {
      jest.doMock('esbuild', () => ({ ...esbuild, buildSync }));
      const fresh = jest.requireActual<typeof import('../../lib/edge-routing/function-code')>(
        '../../lib/edge-routing/function-code',
      );

      // WHEN two stacks build their functions
      const first = fresh.buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS });
      const second = fresh.buildApiRouterFunctionCode({ regions: DEFAULT_REGIONS.slice(1) });

      // THEN esbuild ran once, and both functions hold the same decision code
      expect(first).toContain(fresh.decisionBundle());
      expect(second).toContain(fresh.decisionBundle());
    });
    expect(buildSync).toHaveBeenCalledTimes(1);
  });
});

describe('buildApiRouterFunctionCode, bad input', () => {
  test('names every problem at once: empty list, duplicates, coordinates, bias, origin id', () => {
    const good = DEFAULT_REGIONS[0];
    expect(() =>
      buildApiRouterFunctionCode({
        regions: [
          good,
          { ...good, originId: 'other' },
          { ...good, region: 'eu-west-1', latitude: 91, longitude: -181 },
          { ...good, region: 'ap-northeast-1', bias: 100, originId: '' },
          { ...good, region: 'Mars', bias: 1.5, originId: 'mars' },
        ],
        keyValueStoreId: '',
      }),
    ).toThrow(
      [
        'the API router function has 9 problems:',
        '  - regions[1] (us-east-1): region is listed twice',
        '  - regions[2] (eu-west-1): latitude must be -90..90, got 91',
        '  - regions[2] (eu-west-1): longitude must be -180..180, got -181',
        '  - regions[2] (eu-west-1): originId api-us-east-1 is used by another region',
        '  - regions[3] (ap-northeast-1): bias must be an integer from -99 to 99, got 100',
        '  - regions[3] (ap-northeast-1): originId must not be empty',
        '  - regions[4] (Mars): region must be an AWS region code such as eu-west-1',
        '  - regions[4] (Mars): bias must be an integer from -99 to 99, got 1.5',
        '  - keyValueStoreId must not be empty; leave it out to use the associated store',
      ].join('\n'),
    );
  });

  test('refuses an empty region list', () => {
    expect(() => buildApiRouterFunctionCode({ regions: [] })).toThrow(
      'the API router function has 1 problem:\n  - regions must list at least one region, got none',
    );
  });
});

describe('buildApiRouterFunctionCode in a stack', () => {
  test('takes the KeyValueStore id as a token, which the template resolves', () => {
    // GIVEN a stack with a KeyValueStore
    const stack = new Stack(new App(), 'Edge', { env: { region: 'us-east-1' } });
    const store = new KeyValueStore(stack, 'Health');

    // WHEN the code names the store by its (unresolved) id
    const code = buildApiRouterFunctionCode({
      regions: DEFAULT_REGIONS,
      keyValueStoreId: store.keyValueStoreId,
    });

    // THEN the rendered code refers to the store's Id attribute
    expect(JSON.stringify(stack.resolve(code))).toContain('"Fn::GetAtt":["Health');
  });
});
