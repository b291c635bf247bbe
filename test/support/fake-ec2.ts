/**
 * A fake EC2 endpoint on 127.0.0.1 speaking the query protocol for DescribeAvailabilityZones
 * (a signed form POST, an XML answer, `<Response><Errors>` on errors), for
 * lambda/shared/availability-zones.ts. Network faults come from test/support/fault-proxy.ts in
 * front of it; the faults that are answers are injected here, one per call:
 *
 *   const ec2 = await FakeEc2.start({ 'eu-west-1a': 'euw1-az1' });
 *   ec2.inject({ kind: 'throttle' });
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

export type Ec2Injection =
  /** 503 RequestLimitExceeded, as EC2 throttles. */
  | { readonly kind: 'throttle' }
  /** 200 whose XML is cut off halfway. */
  | { readonly kind: 'malformed' }
  /** 400 with this error code. */
  | { readonly kind: 'error'; readonly code: string };

export interface Ec2Call {
  readonly action: string | null;
  readonly version: string | null;
  readonly zoneNames: readonly string[];
  /** `<region>/<service>` of the SigV4 credential scope, if signed. */
  readonly signedFor: string | undefined;
  readonly answer: 'ok' | Ec2Injection['kind'] | number;
}

const xmlError = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code>` +
  `<Message>${message}</Message></Error></Errors><RequestID>req-1</RequestID></Response>`;

export class FakeEc2 extends LoopbackHttpFake {
  public readonly calls: Ec2Call[] = [];
  private readonly injections: Ec2Injection[] = [];

  private constructor(
    private readonly region: string,
    private readonly zones: Readonly<Record<string, string>>,
  ) {
    super();
  }

  /** Zones by name, with their AZ IDs, of `region`. */
  static async start(region: string, zones: Readonly<Record<string, string>>): Promise<FakeEc2> {
    const fake = new FakeEc2(region, zones);
    await fake.listen();
    return fake;
  }

  /** Queues answers for the next calls, one per call. */
  inject(...injections: Ec2Injection[]): void {
    this.injections.push(...injections);
  }

  clear(): void {
    this.injections.length = 0;
    this.calls.length = 0;
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const auth = String(req.headers.authorization ?? '');
    const scope = /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      auth,
    );
    const zoneNames = [...form.entries()]
      .filter(([key]) => /^ZoneName\.\d+$/.test(key))
      .map(([, value]) => value);
    const call = (answer: Ec2Call['answer']) =>
      this.calls.push({
        action: form.get('Action'),
        version: form.get('Version'),
        zoneNames,
        signedFor: scope ? `${scope[1]}/${scope[2]}` : undefined,
        answer,
      });
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(body);
    };

    if (
      req.method !== 'POST' ||
      !scope ||
      scope[2] !== 'ec2' ||
      !req.headers['x-amz-date'] ||
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')
    ) {
      call(401);
      return send(401, xmlError('AuthFailure', 'not a signed EC2 query request'));
    }
    const injection = this.injections.shift();
    if (injection?.kind === 'throttle') {
      call('throttle');
      return send(503, xmlError('RequestLimitExceeded', 'Request limit exceeded.'));
    }
    if (injection?.kind === 'error') {
      call('error');
      return send(400, xmlError(injection.code, `injected ${injection.code}`));
    }
    if (
      form.get('Action') !== 'DescribeAvailabilityZones' ||
      form.get('Version') !== '2016-11-15'
    ) {
      call(400);
      return send(400, xmlError('InvalidAction', `unknown action ${form.get('Action')}`));
    }
    const unknown = zoneNames.find((name) => this.zones[name] === undefined);
    if (unknown !== undefined) {
      call(400);
      return send(
        400,
        xmlError('InvalidParameterValue', `Invalid availability zone: [${unknown}]`),
      );
    }
    const wanted = zoneNames.length > 0 ? zoneNames : Object.keys(this.zones);
    // The shape EC2 answers, with a nested <item> (a zone message) and a parent zone before the ID.
    const items = wanted
      .map(
        (name) =>
          `<item><zoneState>available</zoneState><optInStatus>opt-in-not-required</optInStatus>` +
          `<messageSet><item><message>zone ${name} is fine</message></item></messageSet>` +
          `<regionName>${this.region}</regionName><zoneName>${name}</zoneName>` +
          `<parentZoneName>${this.region}-parent</parentZoneName><parentZoneId>parent-az9</parentZoneId>` +
          `<zoneId>${this.zones[name]}</zoneId><groupName>${this.region}</groupName>` +
          `<networkBorderGroup>${this.region}</networkBorderGroup><zoneType>availability-zone</zoneType></item>`,
      )
      .join('');
    const body =
      `<?xml version="1.0" encoding="UTF-8"?>\n<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` +
      `<requestId>req-1</requestId><availabilityZoneInfo>${items}</availabilityZoneInfo>` +
      `</DescribeAvailabilityZonesResponse>`;
    if (injection?.kind === 'malformed') {
      call('malformed');
      return send(200, body.slice(0, Math.floor(body.length / 2)));
    }
    call('ok');
    return send(200, body);
  }
}
