import type { IncomingHttpHeaders } from 'node:http';

import { viewerLocation } from '../../lib/edge-routing/viewer-request';

/**
 * The simulated viewers of the local game day: fixed places, one or more per inhabited continent,
 * and one viewer CloudFront cannot place. Each request the load sends comes from one of them, in
 * turn, and carries the viewer-location headers CloudFront would add
 * (`CloudFront-Viewer-Latitude`/`-Longitude`), so the local router places it exactly as the
 * CloudFront Function does. The unplaced viewer sends none: the rule gives it the first listed
 * region that is healthy, the home region, so every evacuation moves at least one viewer.
 */

export interface SimulatedViewer {
  /** Short id, sent in the `x-simulated-viewer` header. */
  readonly id: string;
  readonly name: string;
  readonly continent: string;
  /** Where CloudFront places the viewer; absent when it cannot. */
  readonly location?: { readonly latitude: number; readonly longitude: number };
}

export const SIMULATED_VIEWERS: readonly SimulatedViewer[] = [
  {
    id: 'new-york',
    name: 'New York',
    continent: 'North America',
    location: { latitude: 40.71, longitude: -74.01 },
  },
  {
    id: 'sao-paulo',
    name: 'São Paulo',
    continent: 'South America',
    location: { latitude: -23.55, longitude: -46.63 },
  },
  {
    id: 'london',
    name: 'London',
    continent: 'Europe',
    location: { latitude: 51.51, longitude: -0.13 },
  },
  {
    id: 'lagos',
    name: 'Lagos',
    continent: 'Africa',
    location: { latitude: 6.52, longitude: 3.38 },
  },
  {
    id: 'mumbai',
    name: 'Mumbai',
    continent: 'Asia',
    location: { latitude: 19.08, longitude: 72.88 },
  },
  {
    id: 'tokyo',
    name: 'Tokyo',
    continent: 'Asia',
    location: { latitude: 35.68, longitude: 139.69 },
  },
  {
    id: 'sydney',
    name: 'Sydney',
    continent: 'Oceania',
    location: { latitude: -33.87, longitude: 151.21 },
  },
  { id: 'unplaced', name: 'Unplaced viewer', continent: 'unknown' },
];

/** Names the simulated viewer a request comes from (the router keeps one answer per viewer). */
export const VIEWER_HEADER = 'x-simulated-viewer';

/** The headers a request from this viewer carries, as CloudFront would set them. */
export function viewerHeaders(viewer: SimulatedViewer): Record<string, string> {
  if (viewer.location === undefined) return { [VIEWER_HEADER]: viewer.id };
  return {
    'cloudfront-viewer-latitude': String(viewer.location.latitude),
    'cloudfront-viewer-longitude': String(viewer.location.longitude),
    [VIEWER_HEADER]: viewer.id,
  };
}

/** Who sent a request and where from, read from its headers as the edge reads them. */
export function viewerOf(headers: IncomingHttpHeaders): {
  readonly id: string;
  readonly location?: { latitude: number; longitude: number };
} {
  const single = (name: string): { value: string } | undefined => {
    const value = headers[name];
    const text = Array.isArray(value) ? value[0] : value;
    return text === undefined ? undefined : { value: text };
  };
  return {
    id: single(VIEWER_HEADER)?.value ?? '',
    location: viewerLocation({
      headers: {
        'cloudfront-viewer-latitude': single('cloudfront-viewer-latitude'),
        'cloudfront-viewer-longitude': single('cloudfront-viewer-longitude'),
      },
    }),
  };
}
