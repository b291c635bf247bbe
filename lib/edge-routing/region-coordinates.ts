import type { EdgeRegion } from './geoproximity';

/**
 * Where each AWS region is, for the geoproximity rule: the coordinates of the metro area AWS names
 * the region after (AWS publishes no coordinates for its regions; Route 53 places an `AWSRegion`
 * rule by its own table). Degrees north and east, two decimals (about 1 km). One entry per region
 * in lib/aws-regions.ts; a test keeps the two lists in step.
 */
export const REGION_COORDINATES: Readonly<
  Record<string, { readonly latitude: number; readonly longitude: number; readonly place: string }>
> = {
  'af-south-1': { latitude: -33.92, longitude: 18.42, place: 'Cape Town' },
  'ap-east-1': { latitude: 22.32, longitude: 114.17, place: 'Hong Kong' },
  'ap-east-2': { latitude: 25.03, longitude: 121.57, place: 'Taipei' },
  'ap-northeast-1': { latitude: 35.68, longitude: 139.69, place: 'Tokyo' },
  'ap-northeast-2': { latitude: 37.57, longitude: 126.98, place: 'Seoul' },
  'ap-northeast-3': { latitude: 34.69, longitude: 135.5, place: 'Osaka' },
  'ap-south-1': { latitude: 19.08, longitude: 72.88, place: 'Mumbai' },
  'ap-south-2': { latitude: 17.39, longitude: 78.49, place: 'Hyderabad' },
  'ap-southeast-1': { latitude: 1.35, longitude: 103.82, place: 'Singapore' },
  'ap-southeast-2': { latitude: -33.87, longitude: 151.21, place: 'Sydney' },
  'ap-southeast-3': { latitude: -6.21, longitude: 106.85, place: 'Jakarta' },
  'ap-southeast-4': { latitude: -37.81, longitude: 144.96, place: 'Melbourne' },
  'ap-southeast-5': { latitude: 3.14, longitude: 101.69, place: 'Kuala Lumpur' },
  'ap-southeast-7': { latitude: 13.76, longitude: 100.5, place: 'Bangkok' },
  'ca-central-1': { latitude: 45.5, longitude: -73.57, place: 'Montreal' },
  'ca-west-1': { latitude: 51.05, longitude: -114.07, place: 'Calgary' },
  'eu-central-1': { latitude: 50.11, longitude: 8.68, place: 'Frankfurt' },
  'eu-central-2': { latitude: 47.37, longitude: 8.54, place: 'Zurich' },
  'eu-north-1': { latitude: 59.33, longitude: 18.07, place: 'Stockholm' },
  'eu-south-1': { latitude: 45.46, longitude: 9.19, place: 'Milan' },
  'eu-south-2': { latitude: 41.65, longitude: -0.88, place: 'Zaragoza (Aragón)' },
  'eu-west-1': { latitude: 53.35, longitude: -6.26, place: 'Dublin' },
  'eu-west-2': { latitude: 51.51, longitude: -0.13, place: 'London' },
  'eu-west-3': { latitude: 48.86, longitude: 2.35, place: 'Paris' },
  'il-central-1': { latitude: 32.09, longitude: 34.78, place: 'Tel Aviv' },
  'me-central-1': { latitude: 25.2, longitude: 55.27, place: 'Dubai' },
  'me-south-1': { latitude: 26.23, longitude: 50.59, place: 'Manama' },
  'mx-central-1': { latitude: 20.59, longitude: -100.39, place: 'Querétaro' },
  'sa-east-1': { latitude: -23.55, longitude: -46.63, place: 'São Paulo' },
  'us-east-1': { latitude: 39.04, longitude: -77.49, place: 'Ashburn (Northern Virginia)' },
  'us-east-2': { latitude: 39.96, longitude: -83.0, place: 'Columbus (Ohio)' },
  'us-west-1': { latitude: 37.35, longitude: -121.96, place: 'San Jose (Northern California)' },
  'us-west-2': { latitude: 45.84, longitude: -119.7, place: 'Boardman (Oregon)' },
};

/**
 * The edge's view of a configured region: its coordinates from REGION_COORDINATES, its bias and
 * the distribution's origin id for its load balancer.
 */
export function edgeRegion(region: string, bias: number, originId: string): EdgeRegion {
  const where = REGION_COORDINATES[region];
  if (where === undefined) {
    throw new Error(
      `no coordinates for region ${JSON.stringify(region)}; known regions: ${Object.keys(REGION_COORDINATES).join(', ')}`,
    );
  }
  return { region, latitude: where.latitude, longitude: where.longitude, bias, originId };
}
