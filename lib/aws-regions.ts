/**
 * Commercial AWS regions the blueprint accepts. Written out rather than looked up, because synth
 * must never call AWS. Opt-in regions are included; enable them in the account before deploying.
 */
export const AWS_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
];

/** Where a region is, as geoproximity routing measures distance to it. */
export interface RegionLocation {
  /** Degrees north, -90..90. */
  readonly latitude: number;
  /** Degrees east, -180..180. */
  readonly longitude: number;
}

/**
 * The location of each region in `AWS_REGIONS`: the city AWS names the region after (two
 * decimals, about 1 km), which is what the edge's geoproximity rule measures distances to.
 */
export const AWS_REGION_LOCATIONS: Readonly<Record<string, RegionLocation>> = {
  'af-south-1': { latitude: -33.92, longitude: 18.42 }, // Cape Town
  'ap-east-1': { latitude: 22.32, longitude: 114.17 }, // Hong Kong
  'ap-east-2': { latitude: 25.03, longitude: 121.57 }, // Taipei
  'ap-northeast-1': { latitude: 35.68, longitude: 139.69 }, // Tokyo
  'ap-northeast-2': { latitude: 37.57, longitude: 126.98 }, // Seoul
  'ap-northeast-3': { latitude: 34.69, longitude: 135.5 }, // Osaka
  'ap-south-1': { latitude: 19.08, longitude: 72.88 }, // Mumbai
  'ap-south-2': { latitude: 17.39, longitude: 78.49 }, // Hyderabad
  'ap-southeast-1': { latitude: 1.35, longitude: 103.82 }, // Singapore
  'ap-southeast-2': { latitude: -33.87, longitude: 151.21 }, // Sydney
  'ap-southeast-3': { latitude: -6.21, longitude: 106.85 }, // Jakarta
  'ap-southeast-4': { latitude: -37.81, longitude: 144.96 }, // Melbourne
  'ap-southeast-5': { latitude: 3.14, longitude: 101.69 }, // Kuala Lumpur
  'ap-southeast-7': { latitude: 13.76, longitude: 100.5 }, // Bangkok
  'ca-central-1': { latitude: 45.5, longitude: -73.57 }, // Montreal
  'ca-west-1': { latitude: 51.05, longitude: -114.07 }, // Calgary
  'eu-central-1': { latitude: 50.11, longitude: 8.68 }, // Frankfurt
  'eu-central-2': { latitude: 47.38, longitude: 8.54 }, // Zurich
  'eu-north-1': { latitude: 59.33, longitude: 18.07 }, // Stockholm
  'eu-south-1': { latitude: 45.46, longitude: 9.19 }, // Milan
  'eu-south-2': { latitude: 41.65, longitude: -0.88 }, // Aragon (Zaragoza)
  'eu-west-1': { latitude: 53.35, longitude: -6.26 }, // Dublin
  'eu-west-2': { latitude: 51.51, longitude: -0.13 }, // London
  'eu-west-3': { latitude: 48.86, longitude: 2.35 }, // Paris
  'il-central-1': { latitude: 32.09, longitude: 34.78 }, // Tel Aviv
  'me-central-1': { latitude: 25.2, longitude: 55.27 }, // Dubai
  'me-south-1': { latitude: 26.23, longitude: 50.59 }, // Manama
  'mx-central-1': { latitude: 20.59, longitude: -100.39 }, // Queretaro
  'sa-east-1': { latitude: -23.55, longitude: -46.63 }, // Sao Paulo
  'us-east-1': { latitude: 39.04, longitude: -77.49 }, // Northern Virginia (Ashburn)
  'us-east-2': { latitude: 39.96, longitude: -83.0 }, // Ohio (Columbus)
  'us-west-1': { latitude: 37.77, longitude: -122.42 }, // Northern California
  'us-west-2': { latitude: 45.84, longitude: -119.7 }, // Oregon (Boardman)
};

/** An AZ name is its region followed by one letter, e.g. `eu-west-1b`. */
export function availabilityZoneBelongsTo(az: string, region: string): boolean {
  return az.length === region.length + 1 && az.startsWith(region) && /[a-z]$/.test(az);
}
