// stand-in, replaced at merge by F1's module
/** One region as the edge routes to it. */
export interface EdgeRegion {
  readonly region: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly bias: number;
  readonly originId: string;
}

export type RegionHealth = 'healthy' | 'unhealthy' | 'missing';

const EARTH_RADIUS_KM = 6371;

function haversineKm(a: { latitude: number; longitude: number }, b: EdgeRegion): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(h));
}

/** The nearest healthy region (a missing entry counts as healthy); the nearest of all if none is. */
export function chooseRegion(
  viewer: { readonly latitude: number; readonly longitude: number },
  regions: readonly EdgeRegion[],
  health: Readonly<Record<string, RegionHealth>>,
): EdgeRegion {
  const byDistance = [...regions].sort((a, b) => haversineKm(viewer, a) - haversineKm(viewer, b));
  return byDistance.find((r) => health[r.region] !== 'unhealthy') ?? byDistance[0];
}
