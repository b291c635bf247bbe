/**
 * A fake Elastic Load Balancing v2 endpoint on 127.0.0.1 that speaks the ELBv2 query protocol
 * (awsQuery: POST / with a form-encoded body `Action=DescribeTargetHealth&Version=2015-12-01&...`,
 * XML answers), so that tests run the real `@aws-sdk/client-elastic-load-balancing-v2` client
 * against it. It serves DescribeTargetHealth from target groups the test moves, and injects the
 * faults the chaos functions must survive: throttling, 5xx, a reply slower than the client's
 * timeout (the answer lost), a reset connection, and an unreadable body.
 *
 *   const elb = await FakeElbv2.start();
 *   elb.setTargets(arn, new Map([['10.0.0.1', 'healthy']]));
 *   elb.inject({ kind: 'slow', delayMs: 1_000 });   // the next call answers late
 *   elb.inject({ kind: 'ok' }, { kind: 'reset' });   // the next answers, the one after is reset
 *   ...
 *   await elb.close();
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

const XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';

/** What to do to the next DescribeTargetHealth call. */
export type Elbv2Injection =
  /** The ordinary answer: to let one call through before faults meant for the next ones. */
  | { readonly kind: 'ok' }
  /** 400 Throttling, as ELBv2 answers when rate-limited. */
  | { readonly kind: 'throttle' }
  /** 500 HealthUnavailable ("could not be retrieved due to an internal error"). */
  | { readonly kind: 'server-error' }
  /** The answer only after `delayMs`: past the client's timeout, the answer is lost. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** The connection is reset before any answer. */
  | { readonly kind: 'reset' }
  /** 200 with a body that is not XML. */
  | { readonly kind: 'malformed' };

export interface Elbv2Call {
  readonly action: string;
  readonly params: Readonly<Record<string, string>>;
  readonly answer: Elbv2Injection['kind'];
}

export class FakeElbv2 extends LoopbackHttpFake {
  public readonly calls: Elbv2Call[] = [];
  /** Target group ARN -> target id -> state. */
  private readonly groups = new Map<string, Map<string, string>>();
  private readonly injections: Elbv2Injection[] = [];

  private constructor() {
    super();
  }

  /** Starts on a free port of 127.0.0.1. */
  static async start(): Promise<FakeElbv2> {
    const fake = new FakeElbv2();
    await fake.listen();
    return fake;
  }

  /** Sets (replaces) the targets of a target group: id -> state. */
  setTargets(targetGroupArn: string, targets: ReadonlyMap<string, string>): void {
    this.groups.set(targetGroupArn, new Map(targets));
  }

  /** Queues injections for the next calls, one per call, in order. */
  inject(...injections: Elbv2Injection[]): void {
    this.injections.push(...injections);
  }

  protected override handlerFailed(res: ServerResponse, error: unknown): void {
    this.error(res, 500, 'InternalFailure', String(error));
  }

  protected override async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const action = params.Action ?? '';
    if (
      req.method !== 'POST' ||
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded') ||
      params.Version !== '2015-12-01'
    ) {
      this.error(res, 400, 'InvalidAction', 'not an ELBv2 query request');
      return;
    }
    if (action !== 'DescribeTargetHealth') {
      this.error(res, 400, 'InvalidAction', `${action} is not served by this fake`);
      return;
    }
    const injection = this.injections.shift();
    this.calls.push({ action, params, answer: injection?.kind ?? 'ok' });
    switch (injection?.kind) {
      case 'throttle':
        this.error(res, 400, 'Throttling', 'Rate exceeded');
        return;
      case 'server-error':
        this.error(
          res,
          500,
          'HealthUnavailable',
          'The health of the targets could not be retrieved',
        );
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'malformed':
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<DescribeTargetHealthResponse><DescribeTargetHealthResult><TargetHe');
        return;
      default:
    }
    const group = this.groups.get(params.TargetGroupArn ?? '');
    if (!group) {
      this.error(res, 400, 'TargetGroupNotFound', `One or more target groups not found`);
      return;
    }
    const members = [...group]
      .map(
        ([id, state]) =>
          `<member><Target><Id>${id}</Id><Port>8080</Port></Target>` +
          `<HealthCheckPort>8080</HealthCheckPort>` +
          `<TargetHealth><State>${state}</State></TargetHealth></member>`,
      )
      .join('');
    const body =
      `<DescribeTargetHealthResponse xmlns="${XMLNS}"><DescribeTargetHealthResult>` +
      `<TargetHealthDescriptions>${members}</TargetHealthDescriptions>` +
      `</DescribeTargetHealthResult><ResponseMetadata><RequestId>fake-${this.calls.length}` +
      `</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`;
    if (injection?.kind === 'slow') {
      this.replyLater(res, injection.delayMs, () => this.reply(res, 200, body));
      return;
    }
    this.reply(res, 200, body);
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    this.reply(
      res,
      status,
      `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
        `<Code>${code}</Code><Message>${message}</Message></Error>` +
        `<RequestId>fake-${this.calls.length}</RequestId></ErrorResponse>`,
    );
  }

  private reply(res: ServerResponse, status: number, body: string): void {
    res.writeHead(status, {
      'content-type': 'text/xml',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': `fake-${this.calls.length}`,
    });
    res.end(body);
  }
}
