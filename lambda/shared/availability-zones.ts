/**
 * The AZ ID (`euw1-az1`) of an availability zone name (`eu-west-1a`): EC2's
 * DescribeAvailabilityZones on its query API, signed with the SDK's SigV4 signer (`signed-http.ts`).
 *
 * The zonal-shift function needs this one read, and `@aws-sdk/client-ec2` is over 500 KiB of
 * minified JavaScript (every EC2 operation's schema) that its cold start would load for it. The
 * request is one form-encoded POST; only `zoneName` and `zoneId` are read from the XML answer:
 *
 *   POST /  Action=DescribeAvailabilityZones&Version=2016-11-15&ZoneName.1=eu-west-1a
 *   <DescribeAvailabilityZonesResponse><availabilityZoneInfo><item><zoneName>eu-west-1a</zoneName>
 *     ...<zoneId>euw1-az1</zoneId>...</item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>
 *
 * Failures, as the zonal-shift client treats a read: a timeout, a reset, throttling
 * (`RequestLimitExceeded`, 429), a 5xx or an unreadable 2xx are retried with exponential backoff and
 * full jitter, then thrown; any other error answer is thrown at once as an Ec2ApiError with EC2's
 * code and message. Nothing here writes, so nothing is ever UNKNOWN.
 */
import { type RawAnswer, type SignedClientOptions, SignedEndpoint } from './signed-http';
import { textOf } from './xml-text';

/** The EC2 API version of the query protocol's requests. */
export const EC2_API_VERSION = '2016-11-15';

/** An error answer of EC2: its code (`InvalidParameterValue`), HTTP status and message. */
export class Ec2ApiError extends Error {
  public override readonly name = 'Ec2ApiError';

  constructor(
    public readonly operation: string,
    public readonly code: string,
    public readonly status: number,
    detail: string,
  ) {
    super(`${operation} failed: ${code}: ${detail}`);
  }
}

/** EC2 knows no zone of that name in the region (or answered without its ID). */
export class UnknownAvailabilityZoneError extends Error {
  public override readonly name = 'UnknownAvailabilityZoneError';
}

export type AvailabilityZonesOptions = SignedClientOptions;

/** One zone of a DescribeAvailabilityZones answer. */
export interface ZoneIdentity {
  readonly zoneName: string;
  readonly zoneId: string;
}

const ZONE_NAME = /^[a-z]{2}(-[a-z]+)+-\d+[a-z](-[a-z0-9-]+)?$/;

export class AvailabilityZones {
  private readonly region: string;
  private readonly ec2: SignedEndpoint;

  constructor(options: AvailabilityZonesOptions) {
    this.region = options.region;
    this.ec2 = new SignedEndpoint('ec2', options);
  }

  /**
   * The AZ ID of one zone name of this region. Throws UnknownAvailabilityZoneError when EC2's
   * answer does not list it, and refuses a name that is not a zone name before any call.
   */
  async zoneIdOf(zoneName: string): Promise<string> {
    if (!ZONE_NAME.test(zoneName)) {
      throw new UnknownAvailabilityZoneError(
        `${JSON.stringify(zoneName)} is not an availability zone name (like ${this.region}a)`,
      );
    }
    const zones = await this.describe({ 'ZoneName.1': zoneName });
    const id = zones.find((z) => z.zoneName === zoneName)?.zoneId;
    if (!id) {
      throw new UnknownAvailabilityZoneError(
        `EC2 knows no availability zone ${zoneName} in ${this.region}`,
      );
    }
    return id;
  }

  /** DescribeAvailabilityZones with the given query parameters (as `ZoneName.1`). */
  async describe(parameters: Readonly<Record<string, string>> = {}): Promise<ZoneIdentity[]> {
    const operation = 'DescribeAvailabilityZones';
    const body = new URLSearchParams({
      Action: operation,
      Version: EC2_API_VERSION,
      ...parameters,
    }).toString();
    return this.ec2.call(
      {
        method: 'POST',
        path: '/',
        query: {},
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body,
      },
      {
        operation,
        mutating: false,
        read: (answer) => parseZones(answer.body),
        fail: (answer) => parseError(operation, answer),
        retryable: (error) => retryable(error as Ec2ApiError),
      },
    );
  }
}
const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

function retryable(error: Ec2ApiError): boolean {
  return error.status === 429 || error.status >= 500 || THROTTLING.has(error.code);
}

/**
 * The zones of a DescribeAvailabilityZonesResponse, or undefined when the body is not one (cut
 * short, or something else). Each zone's fields are read between its `<zoneName>` and the next
 * zone's, so a zone's nested `<item>`s (its messages) and `parentZone*` fields do not confuse it.
 */
export function parseZones(xml: string): ZoneIdentity[] | undefined {
  const start = xml.indexOf('<DescribeAvailabilityZonesResponse');
  const info =
    /<availabilityZoneInfo\s*\/>|<availabilityZoneInfo>([\s\S]*)<\/availabilityZoneInfo>/.exec(xml);
  if (start < 0 || !info || !xml.includes('</DescribeAvailabilityZonesResponse>')) return undefined;
  const parts = (info[1] ?? '').split('<zoneName>').slice(1);
  const zones: ZoneIdentity[] = [];
  for (const part of parts) {
    const zone = textOf(`<zoneName>${part}`, 'zoneName');
    const zoneId = textOf(part, 'zoneId');
    if (!zone || !zoneId) return undefined;
    zones.push({ zoneName: zone, zoneId });
  }
  return zones;
}

/** EC2's error answer: `<Response><Errors><Error><Code>..</Code><Message>..</Message>`. */
function parseError(operation: string, answer: RawAnswer): Ec2ApiError {
  const code = textOf(answer.body, 'Code') ?? `HTTP ${answer.status}`;
  const message = textOf(answer.body, 'Message') ?? answer.body.slice(0, 200);
  return new Ec2ApiError(operation, code, answer.status, message);
}
