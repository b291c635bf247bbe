/**
 * The one routing rule of the blueprint: Route 53 geoproximity with health, as a pure function.
 *
 * The CloudFront Function on `/api/*` runs this code (bundled by function-code.ts) and the local
 * game day's router runs it too, so the rehearsal and AWS route every viewer the same way.
 *
 * **The rule.** Each region has coordinates and a bias (-99..99). For a viewer at a known place,
 * every region gets a biased distance, and the viewer goes to the region with the smallest one
 * among the regions that may take traffic. The distance is the great-circle (haversine) distance
 * on a sphere of the Earth's mean radius. The bias follows the formula the Route 53 Developer
 * Guide states ("How Amazon Route 53 uses bias to route traffic", routing-policy-geoproximity):
 *
 *     biased distance = actual distance × [1 − (bias / 100)]
 *
 * so a bias of +50 halves a region's distance (its area grows), and a bias of −50 makes it 1.5
 * times as far (its area shrinks). The guide now gives this one formula for every bias. Earlier
 * editions gave negative biases a formula of their own, actual distance / [1 + (bias / 100)]
 * (−50 doubles the distance). Both agree on which way a bias moves the border; they differ only
 * on how far a negative bias moves it. `biasedDistanceKm` is the one place to change this.
 *
 * **Health.** `health(region)` says what the health store holds for a region:
 * - `unhealthy`: never routed to, unless every region is unhealthy.
 * - `healthy`: routed to by the rule.
 * - `missing` (no entry, or an entry that could not be read): routed to as if healthy. A record
 *   without a health check is healthy to Route 53 too. A store that is new, empty or unreadable
 *   therefore routes by geography alone rather than blackholing a region; only an explicit
 *   `unhealthy` takes a region out.
 *
 * When every region is unhealthy, the rule fails open to the nearest region by biased distance,
 * as Route 53 answers as if every record were healthy when none is.
 *
 * **No location.** CloudFront sends no coordinates when it cannot place the viewer. The viewer
 * then goes to the first region in list order that may take traffic (list the home region first),
 * and to the first region when every region is unhealthy.
 *
 * Pure TypeScript with no imports and no Node API: the bundle runs in CloudFront Functions'
 * JavaScript runtime 2.0 (ES 5.1 plus let, const, arrow functions and template literals), so this
 * file keeps to indexed `for` loops: no for-of, destructuring, spread, classes, optional chaining,
 * `??`, or ES 2015 library methods such as `Array.prototype.find`.
 */

/** A region the edge may route to. */
export interface EdgeRegion {
  /** The AWS region code, the health store's key, e.g. `eu-west-1`. */
  readonly region: string;
  /** Degrees north, -90..90. */
  readonly latitude: number;
  /** Degrees east, -180..180. */
  readonly longitude: number;
  /** Route 53 geoproximity bias, an integer -99..99; 0 routes by geography alone. */
  readonly bias: number;
  /** The distribution's origin id for this region's load balancer. */
  readonly originId: string;
}

/** What the health store holds for a region: `missing` when there is no readable entry. */
export type RegionHealth = 'healthy' | 'unhealthy' | 'missing';

/** The Earth's mean radius (IUGG), in kilometres. */
export const EARTH_RADIUS_KM = 6371.0088;

const RADIANS_PER_DEGREE = Math.PI / 180;

/** Great-circle distance in kilometres between two points, by the haversine formula. */
export function greatCircleKm(
  from: { readonly latitude: number; readonly longitude: number },
  to: { readonly latitude: number; readonly longitude: number },
): number {
  const lat1 = from.latitude * RADIANS_PER_DEGREE;
  const lat2 = to.latitude * RADIANS_PER_DEGREE;
  const halfDLat = (lat2 - lat1) / 2;
  const halfDLon = ((to.longitude - from.longitude) * RADIANS_PER_DEGREE) / 2;
  const h =
    Math.sin(halfDLat) * Math.sin(halfDLat) +
    Math.cos(lat1) * Math.cos(lat2) * Math.sin(halfDLon) * Math.sin(halfDLon);
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** The Route 53 Developer Guide's formula: actual distance × [1 − (bias / 100)]. */
export function biasedDistanceKm(actualKm: number, bias: number): number {
  return actualKm * (1 - bias / 100);
}

function isNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && isFinite(value) && value >= min && value <= max;
}

/** Whether the viewer has usable coordinates (both finite and in range). */
export function isLocated(
  viewer: { readonly latitude: number; readonly longitude: number } | undefined,
): viewer is { readonly latitude: number; readonly longitude: number } {
  return (
    viewer !== undefined &&
    viewer !== null &&
    isNumberIn(viewer.latitude, -90, 90) &&
    isNumberIn(viewer.longitude, -180, 180)
  );
}

/**
 * Picks the region for a viewer: the nearest region by biased distance that is not unhealthy; the
 * nearest of all when every region is unhealthy. See the file comment for missing entries and
 * viewers without coordinates. Ties go to the region listed first.
 */
export function chooseRegion(
  viewer: { latitude: number; longitude: number } | undefined,
  regions: readonly EdgeRegion[],
  health: (region: string) => RegionHealth,
): { region: EdgeRegion; reason: string } {
  if (regions.length === 0) throw new Error('chooseRegion needs at least one region, got none');
  const located = isLocated(viewer);
  const distances: number[] = [];
  const states: RegionHealth[] = [];
  let best = -1;
  let nearest = 0;
  for (let i = 0; i < regions.length; i += 1) {
    const region = regions[i];
    // Without a location every region is equally far: list order decides.
    distances.push(located ? biasedDistanceKm(greatCircleKm(viewer, region), region.bias) : i);
    states.push(health(region.region));
    if (distances[i] < distances[nearest]) nearest = i;
    if (states[i] !== 'unhealthy' && (best < 0 || distances[i] < distances[best])) best = i;
  }
  const where = located ? 'nearest' : 'first listed';
  if (best < 0) {
    return {
      region: regions[nearest],
      reason: `every region is unhealthy: failing open to the ${where} region`,
    };
  }
  const skipped: string[] = [];
  for (let i = 0; i < regions.length; i += 1) {
    if (states[i] === 'unhealthy' && distances[i] < distances[best])
      skipped.push(regions[i].region);
  }
  let reason = `${where} ${states[best] === 'healthy' ? 'healthy' : 'available'} region`;
  if (!located) reason += ' (no viewer location)';
  if (skipped.length > 0) reason += `; passed over unhealthy ${skipped.join(', ')}`;
  if (states[best] !== 'healthy') reason += '; no health entry, so it counts as healthy';
  return { region: regions[best], reason };
}
