/**
 * A fake CloudWatch endpoint on 127.0.0.1 that speaks DescribeAlarms on the JSON 1.0 protocol
 * (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.DescribeAlarms`), so that tests run the
 * functions' small CloudWatch client (lambda/shared/cloudwatch-api.ts) against it: alarms by name
 * and type, pages of `MaxRecords` with a `NextToken`, and injected throttling, 5xx and late replies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

const TARGET = 'GraniteServiceVersion20100801.DescribeAlarms';
const CONTENT_TYPE = 'application/x-amz-json-1.0';

export interface FakeAlarm {
  readonly name: string;
  readonly type: 'MetricAlarm' | 'CompositeAlarm';
  state: string;
  /** Seconds since the epoch, as the JSON protocol sends timestamps. */
  updatedAt: number;
}

export type CloudWatchInjection =
  | { readonly kind: 'throttle' }
  | { readonly kind: 'server-error' }
  | { readonly kind: 'slow'; readonly delayMs: number };

export class FakeCloudWatch extends LoopbackHttpFake {
  public readonly alarms = new Map<string, FakeAlarm>();
  /** Every DescribeAlarms that reached the fake: its input and what the fake answered. */
  public readonly calls: { readonly input: Record<string, unknown>; readonly answer: string }[] =
    [];
  private readonly injections: CloudWatchInjection[] = [];

  static async start(alarms: readonly FakeAlarm[]): Promise<FakeCloudWatch> {
    const fake = new FakeCloudWatch();
    for (const alarm of alarms) fake.alarms.set(alarm.name, { ...alarm });
    await fake.listen();
    return fake;
  }

  /** Queues injections for the next calls, one per call, in order. */
  inject(...injections: CloudWatchInjection[]): void {
    this.injections.push(...injections);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.headers['x-amz-target'] !== TARGET || req.headers['content-type'] !== CONTENT_TYPE) {
      this.reply(res, 400, { __type: 'UnknownOperationException', message: 'not faked' });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
      AlarmNames?: string[];
      AlarmTypes?: string[];
      MaxRecords?: number;
      NextToken?: string;
    };
    const injection = this.injections.shift();
    this.calls.push({ input, answer: injection?.kind ?? 'ok' });
    if (injection?.kind === 'throttle') {
      this.reply(res, 400, {
        __type: 'com.amazonaws.cloudwatch#Throttling',
        message: 'Rate exceeded',
      });
      return;
    }
    if (injection?.kind === 'server-error') {
      this.reply(res, 500, { __type: 'InternalServiceFault', message: 'Internal failure' });
      return;
    }
    const types = input.AlarmTypes ?? ['MetricAlarm'];
    const matching = (input.AlarmNames ?? [...this.alarms.keys()])
      .map((name) => this.alarms.get(name))
      .filter((a): a is FakeAlarm => a !== undefined && types.includes(a.type));
    const start = Number(input.NextToken ?? 0);
    const size = input.MaxRecords ?? 50;
    const page = matching.slice(start, start + size);
    const shape = (a: FakeAlarm) => ({
      AlarmName: a.name,
      StateValue: a.state,
      StateUpdatedTimestamp: a.updatedAt,
    });
    const body = {
      MetricAlarms: page.filter((a) => a.type === 'MetricAlarm').map(shape),
      CompositeAlarms: page.filter((a) => a.type === 'CompositeAlarm').map(shape),
      ...(start + size < matching.length ? { NextToken: String(start + size) } : {}),
    };
    if (injection?.kind === 'slow') {
      this.replyLater(res, injection.delayMs, () => this.reply(res, 200, body));
      return;
    }
    this.reply(res, 200, body);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    this.replyJson(res, status, body, CONTENT_TYPE);
  }
}
