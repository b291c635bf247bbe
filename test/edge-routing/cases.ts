import { DEFAULT_CONFIG } from '../../lib/config';
import type { EdgeRegion } from '../../lib/edge-routing/geoproximity';
import { edgeRegion } from '../../lib/edge-routing/region-coordinates';

/**
 * One table of routing cases, run against chooseRegion itself (geoproximity.test.ts) and against
 * the bundled CloudFront Function executed in Node (function-code.test.ts).
 *
 * The expected regions come from geography, checked outside this code with the spherical law of
 * cosines on the same coordinates; the distances in the titles are those, rounded to 10 km.
 */

export interface Place {
  readonly latitude: number;
  readonly longitude: number;
}

/** Viewers, one or more per inhabited continent. */
export const PLACES = {
  newYork: { latitude: 40.71, longitude: -74.01 },
  losAngeles: { latitude: 34.05, longitude: -118.24 },
  mexicoCity: { latitude: 19.43, longitude: -99.13 },
  saoPaulo: { latitude: -23.55, longitude: -46.63 },
  buenosAires: { latitude: -34.6, longitude: -58.38 },
  berlin: { latitude: 52.52, longitude: 13.4 },
  reykjavik: { latitude: 64.15, longitude: -21.94 },
  lagos: { latitude: 6.52, longitude: 3.38 },
  johannesburg: { latitude: -26.2, longitude: 28.04 },
  tokyo: { latitude: 35.68, longitude: 139.69 },
  singapore: { latitude: 1.35, longitude: 103.82 },
  mumbai: { latitude: 19.08, longitude: 72.88 },
  dubai: { latitude: 25.2, longitude: 55.27 },
  sydney: { latitude: -33.87, longitude: 151.21 },
  honolulu: { latitude: 21.31, longitude: -157.86 },
  /** 2,200 km from us-east-1, 3,290 km from eu-west-1: a bias of about 33 moves it. */
  stJohns: { latitude: 47.56, longitude: -52.71 },
  /** 5,370 km from us-east-1, 5,560 km from ap-northeast-1. */
  anchorage: { latitude: 61.22, longitude: -149.9 },
} as const satisfies Record<string, Place>;

/** The origin id each region gets in these cases. */
export const originIdOf = (region: string) => `api-${region}`;

/** The blueprint's default regions (us-east-1, eu-west-1, ap-northeast-1), no bias. */
export const DEFAULT_REGIONS: readonly EdgeRegion[] = DEFAULT_CONFIG.regions.map((region) =>
  edgeRegion(region.region, region.geoproximityBias, originIdOf(region.region)),
);

export function withBias(
  regions: readonly EdgeRegion[],
  biases: Readonly<Record<string, number>>,
): EdgeRegion[] {
  return regions.map((region) => ({ ...region, bias: biases[region.region] ?? region.bias }));
}

export interface RoutingCase {
  readonly title: string;
  readonly viewer?: Place;
  readonly regions: readonly EdgeRegion[];
  /** What the store holds; a region not named here has no entry (`missing`). */
  readonly store: Readonly<Record<string, 'healthy' | 'unhealthy'>>;
  readonly expected: string;
  /** Text the decision's reason must contain. */
  readonly reason: string;
}

const ALL_HEALTHY = {
  'us-east-1': 'healthy',
  'eu-west-1': 'healthy',
  'ap-northeast-1': 'healthy',
} as const;

const continent = (title: string, viewer: Place, expected: string): RoutingCase => ({
  title,
  viewer,
  regions: DEFAULT_REGIONS,
  store: ALL_HEALTHY,
  expected,
  reason: 'nearest healthy region',
});

export const ROUTING_CASES: readonly RoutingCase[] = [
  // Viewers in each continent, every region healthy, no bias.
  continent('North America: New York goes to us-east-1 (350 km)', PLACES.newYork, 'us-east-1'),
  continent(
    'North America: Los Angeles goes to us-east-1 (3,650 km)',
    PLACES.losAngeles,
    'us-east-1',
  ),
  continent(
    'North America: Mexico City goes to us-east-1 (3,010 km)',
    PLACES.mexicoCity,
    'us-east-1',
  ),
  continent(
    'South America: São Paulo goes to us-east-1 (7,660 km, eu-west-1 9,390 km)',
    PLACES.saoPaulo,
    'us-east-1',
  ),
  continent(
    'South America: Buenos Aires goes to us-east-1 (8,420 km)',
    PLACES.buenosAires,
    'us-east-1',
  ),
  continent('Europe: Berlin goes to eu-west-1 (1,320 km)', PLACES.berlin, 'eu-west-1'),
  continent(
    'Europe: Reykjavik goes to eu-west-1 (1,500 km, us-east-1 4,520 km)',
    PLACES.reykjavik,
    'eu-west-1',
  ),
  continent('Africa: Lagos goes to eu-west-1 (5,280 km)', PLACES.lagos, 'eu-west-1'),
  continent(
    'Africa: Johannesburg goes to eu-west-1 (9,450 km, us-east-1 13,090 km)',
    PLACES.johannesburg,
    'eu-west-1',
  ),
  continent('Asia: Tokyo goes to ap-northeast-1', PLACES.tokyo, 'ap-northeast-1'),
  continent(
    'Asia: Singapore goes to ap-northeast-1 (5,310 km)',
    PLACES.singapore,
    'ap-northeast-1',
  ),
  continent(
    'Asia: Mumbai goes to ap-northeast-1 (6,720 km, eu-west-1 7,600 km)',
    PLACES.mumbai,
    'ap-northeast-1',
  ),
  continent(
    'Asia: Dubai goes to eu-west-1 (5,920 km, ap-northeast-1 7,930 km)',
    PLACES.dubai,
    'eu-west-1',
  ),
  continent('Oceania: Sydney goes to ap-northeast-1 (7,830 km)', PLACES.sydney, 'ap-northeast-1'),
  continent(
    'Oceania: Honolulu goes to ap-northeast-1 (6,210 km, us-east-1 7,730 km)',
    PLACES.honolulu,
    'ap-northeast-1',
  ),

  // Bias moves the boundary.
  {
    title: 'bias: without bias St. John’s goes to us-east-1 (2,200 km against 3,290 km)',
    viewer: PLACES.stJohns,
    regions: DEFAULT_REGIONS,
    store: ALL_HEALTHY,
    expected: 'us-east-1',
    reason: 'nearest healthy region',
  },
  {
    title:
      'bias: +30 on eu-west-1 is not enough for St. John’s (3,290 × 0.70 = 2,300 km > 2,200 km)',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'eu-west-1': 30 }),
    store: ALL_HEALTHY,
    expected: 'us-east-1',
    reason: 'nearest healthy region',
  },
  {
    title: 'bias: +35 on eu-west-1 pulls St. John’s to Europe (3,290 × 0.65 = 2,140 km < 2,200 km)',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'eu-west-1': 35 }),
    store: ALL_HEALTHY,
    expected: 'eu-west-1',
    reason: 'nearest healthy region',
  },
  {
    title:
      'bias: −40 on us-east-1 makes it 1.4 times as far (the guide’s formula): St. John’s stays (3,090 km < 3,290 km)',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'us-east-1': -40 }),
    store: ALL_HEALTHY,
    expected: 'us-east-1',
    reason: 'nearest healthy region',
  },
  {
    title: 'bias: −60 on us-east-1 pushes St. John’s to Europe (3,530 km > 3,290 km)',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'us-east-1': -60 }),
    store: ALL_HEALTHY,
    expected: 'eu-west-1',
    reason: 'nearest healthy region',
  },
  {
    title:
      'bias: +5 on ap-northeast-1 moves Anchorage across the Pacific (5,560 × 0.95 = 5,290 km < 5,370 km)',
    viewer: PLACES.anchorage,
    regions: withBias(DEFAULT_REGIONS, { 'ap-northeast-1': 5 }),
    store: ALL_HEALTHY,
    expected: 'ap-northeast-1',
    reason: 'nearest healthy region',
  },
  {
    title: 'bias: +3 on ap-northeast-1 leaves Anchorage with us-east-1 (5,400 km > 5,370 km)',
    viewer: PLACES.anchorage,
    regions: withBias(DEFAULT_REGIONS, { 'ap-northeast-1': 3 }),
    store: ALL_HEALTHY,
    expected: 'us-east-1',
    reason: 'nearest healthy region',
  },

  // One region unhealthy.
  {
    title: 'one region unhealthy: New York goes to the next nearest, eu-west-1',
    viewer: PLACES.newYork,
    regions: DEFAULT_REGIONS,
    store: { ...ALL_HEALTHY, 'us-east-1': 'unhealthy' },
    expected: 'eu-west-1',
    reason: 'passed over unhealthy us-east-1',
  },
  {
    title: 'one region unhealthy: Berlin is not moved by us-east-1 failing',
    viewer: PLACES.berlin,
    regions: DEFAULT_REGIONS,
    store: { ...ALL_HEALTHY, 'us-east-1': 'unhealthy' },
    expected: 'eu-west-1',
    reason: 'nearest healthy region',
  },
  {
    title: 'one region unhealthy: a biased-in region that is unhealthy takes no one',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'eu-west-1': 35 }),
    store: { ...ALL_HEALTHY, 'eu-west-1': 'unhealthy' },
    expected: 'us-east-1',
    reason: 'passed over unhealthy eu-west-1',
  },
  {
    title: 'two regions unhealthy: Tokyo goes to the only healthy one, us-east-1',
    viewer: PLACES.tokyo,
    regions: DEFAULT_REGIONS,
    store: { ...ALL_HEALTHY, 'ap-northeast-1': 'unhealthy', 'eu-west-1': 'unhealthy' },
    expected: 'us-east-1',
    reason: 'passed over unhealthy eu-west-1, ap-northeast-1',
  },

  // All regions unhealthy: fail open to the nearest by the bias rule.
  {
    title: 'all unhealthy: New York fails open to the nearest, us-east-1',
    viewer: PLACES.newYork,
    regions: DEFAULT_REGIONS,
    store: { 'us-east-1': 'unhealthy', 'eu-west-1': 'unhealthy', 'ap-northeast-1': 'unhealthy' },
    expected: 'us-east-1',
    reason: 'every region is unhealthy: failing open to the nearest region',
  },
  {
    title: 'all unhealthy: failing open follows the bias (St. John’s with +35 on eu-west-1)',
    viewer: PLACES.stJohns,
    regions: withBias(DEFAULT_REGIONS, { 'eu-west-1': 35 }),
    store: { 'us-east-1': 'unhealthy', 'eu-west-1': 'unhealthy', 'ap-northeast-1': 'unhealthy' },
    expected: 'eu-west-1',
    reason: 'every region is unhealthy',
  },

  // A region missing from the store counts as healthy.
  {
    title: 'missing entry: New York still goes to us-east-1 when its key is absent',
    viewer: PLACES.newYork,
    regions: DEFAULT_REGIONS,
    store: { 'eu-west-1': 'healthy', 'ap-northeast-1': 'healthy' },
    expected: 'us-east-1',
    reason: 'no health entry, so it counts as healthy',
  },
  {
    title: 'missing entry: an empty store routes by geography alone (Sydney to ap-northeast-1)',
    viewer: PLACES.sydney,
    regions: DEFAULT_REGIONS,
    store: {},
    expected: 'ap-northeast-1',
    reason: 'nearest available region',
  },
  {
    title: 'missing entry: a region without an entry beats a farther healthy one',
    viewer: PLACES.newYork,
    regions: DEFAULT_REGIONS,
    store: { 'us-east-1': 'unhealthy', 'ap-northeast-1': 'healthy' },
    expected: 'eu-west-1',
    reason: 'passed over unhealthy us-east-1',
  },

  // No viewer coordinates.
  {
    title: 'no location: the viewer goes to the first listed region',
    regions: DEFAULT_REGIONS,
    store: ALL_HEALTHY,
    expected: 'us-east-1',
    reason: 'first listed healthy region (no viewer location)',
  },
  {
    title: 'no location: the first listed region is passed over when unhealthy',
    regions: DEFAULT_REGIONS,
    store: { ...ALL_HEALTHY, 'us-east-1': 'unhealthy' },
    expected: 'eu-west-1',
    reason: 'passed over unhealthy us-east-1',
  },
  {
    title: 'no location, all unhealthy: fails open to the first listed region',
    regions: DEFAULT_REGIONS,
    store: { 'us-east-1': 'unhealthy', 'eu-west-1': 'unhealthy', 'ap-northeast-1': 'unhealthy' },
    expected: 'us-east-1',
    reason: 'failing open to the first listed region',
  },

  // Across the antimeridian: the great circle, not a flat map.
  {
    title: 'antimeridian: a viewer at 179.5° E is nearer a region at 179.5° W than one at 170° E',
    viewer: { latitude: 0, longitude: 179.5 },
    regions: [
      { region: 'xx-west-1', latitude: 0, longitude: 170, bias: 0, originId: 'api-xx-west-1' },
      { region: 'xx-east-1', latitude: 0, longitude: -179.5, bias: 0, originId: 'api-xx-east-1' },
    ],
    store: {},
    expected: 'xx-east-1',
    reason: 'nearest available region',
  },
];

/** Health as chooseRegion reads it, from a case's store. */
export const healthOf =
  (store: RoutingCase['store']) =>
  (region: string): 'healthy' | 'unhealthy' | 'missing' =>
    store[region] ?? 'missing';
