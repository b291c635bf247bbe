import { chooseRegion, type EdgeRegion, type RegionHealth } from './geoproximity';

/**
 * The synchronous half of the CloudFront Function on `/api/*` (function-code.ts adds the
 * asynchronous half that reads the KeyValueStore): where the viewer is, what the store's values
 * mean, and which region the request goes to. Pure, like geoproximity.ts, and bundled with it;
 * the same runtime 2.0 limits apply (see there).
 */

/**
 * The request header that tells the origin which region the edge chose. Not `x-edge-*`: CloudFront
 * disallows those in edge functions and answers 502 to a request that gains one.
 */
export const ROUTED_REGION_HEADER = 'x-routed-region';

/** A CloudFront Functions request, as far as routing reads and writes it. */
export interface EdgeRequest {
  headers: { [name: string]: { value: string } | undefined };
}

/** The viewer's coordinates from CloudFront's viewer-location headers, if both are usable. */
export function viewerLocation(
  request: EdgeRequest,
): { latitude: number; longitude: number } | undefined {
  const latitude = request.headers['cloudfront-viewer-latitude'];
  const longitude = request.headers['cloudfront-viewer-longitude'];
  if (latitude === undefined || longitude === undefined) return undefined;
  // Number('') is 0: an empty header must not place the viewer in the Gulf of Guinea.
  if (latitude.value.trim() === '' || longitude.value.trim() === '') return undefined;
  return { latitude: Number(latitude.value), longitude: Number(longitude.value) };
}

/**
 * What a store value means: `healthy` or `unhealthy` (any case, trimmed); anything else, and no
 * value at all (no key, or a read that failed), is `missing`.
 */
export function healthFromStoreValue(value: string | undefined): RegionHealth {
  const text = typeof value === 'string' ? value.trim().toLowerCase() : '';
  return text === 'healthy' || text === 'unhealthy' ? text : 'missing';
}

/**
 * Chooses the region for the request and names it in the `x-routed-region` request header (which
 * the origin sees when the origin request policy forwards it). `storeValues` maps a region to its
 * store value; a region absent from it has no entry.
 */
export function routeViewerRequest(
  request: EdgeRequest,
  regions: readonly EdgeRegion[],
  storeValues: { [region: string]: string | undefined },
): { region: EdgeRegion; reason: string } {
  const decision = chooseRegion(viewerLocation(request), regions, (region) =>
    healthFromStoreValue(storeValues[region]),
  );
  request.headers[ROUTED_REGION_HEADER] = { value: decision.region.region };
  return decision;
}
