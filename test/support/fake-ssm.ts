/**
 * A fake SSM endpoint on 127.0.0.1 that speaks GetParameter and PutParameter on the JSON 1.1
 * protocol (`POST /`, `X-Amz-Target: AmazonSSM.<Operation>`), so that tests run the chaos functions'
 * small SSM client (lambda/shared/ssm-api.ts) on the fault document against it: String parameters
 * with versions, `Overwrite`, ParameterNotFound and ParameterAlreadyExists, and injected throttling,
 * 5xx and a denied access. The network's faults (a lost answer, a reset, a black hole) come from the fault proxy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { LoopbackHttpFake } from './loopback-http-fake';

const CONTENT_TYPE = 'application/x-amz-json-1.1';

export type SsmInjection =
  | { readonly kind: 'throttle' }
  | { readonly kind: 'server-error' }
  | { readonly kind: 'access-denied' };

export interface FakeParameter {
  value: string;
  version: number;
}

export class FakeSsm extends LoopbackHttpFake {
  public readonly parameters = new Map<string, FakeParameter>();
  /** Every request that reached the fake: its operation, input and what the fake answered. */
  public readonly calls: {
    readonly operation: string;
    readonly input: Record<string, unknown>;
    readonly answer: string;
  }[] = [];
  private readonly injections = new Map<string, SsmInjection[]>();

  static async start(): Promise<FakeSsm> {
    const fake = new FakeSsm();
    await fake.listen();
    return fake;
  }

  /** Queues injections for the next calls of `operation`, one per call, in order. */
  inject(operation: 'GetParameter' | 'PutParameter', ...injections: SsmInjection[]): void {
    this.injections.set(operation, [...(this.injections.get(operation) ?? []), ...injections]);
  }

  callsOf(operation: string) {
    return this.calls.filter((c) => c.operation === operation);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AmazonSSM.') ? target.slice('AmazonSSM.'.length) : '';
    if (
      req.headers['content-type'] !== CONTENT_TYPE ||
      !['GetParameter', 'PutParameter'].includes(operation)
    ) {
      this.reply(res, 400, {
        __type: 'UnknownOperationException',
        message: `not faked: ${target}`,
      });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
      Name?: string;
      Value?: string;
      Type?: string;
      Overwrite?: boolean;
    };
    const injection = this.injections.get(operation)?.shift();
    this.calls.push({ operation, input, answer: injection?.kind ?? 'ok' });
    if (injection?.kind === 'throttle') {
      this.reply(res, 400, { __type: 'ThrottlingException', message: 'Rate exceeded' });
      return;
    }
    if (injection?.kind === 'server-error') {
      this.reply(res, 500, { __type: 'InternalServerError', message: 'Internal failure' });
      return;
    }
    if (injection?.kind === 'access-denied') {
      this.reply(res, 400, { __type: 'AccessDeniedException', message: 'not authorized' });
      return;
    }
    const name = input.Name ?? '';
    const existing = this.parameters.get(name);
    if (operation === 'GetParameter') {
      if (!existing) {
        this.reply(res, 400, { __type: 'ParameterNotFound', message: '' });
        return;
      }
      this.reply(res, 200, {
        Parameter: { Name: name, Type: 'String', Value: existing.value, Version: existing.version },
      });
      return;
    }
    if (input.Type !== 'String' || typeof input.Value !== 'string') {
      this.reply(res, 400, { __type: 'ValidationException', message: 'Type String and a Value' });
      return;
    }
    if (existing && input.Overwrite !== true) {
      this.reply(res, 400, { __type: 'ParameterAlreadyExists', message: 'exists' });
      return;
    }
    const version = (existing?.version ?? 0) + 1;
    this.parameters.set(name, { value: input.Value, version });
    this.reply(res, 200, { Tier: 'Standard', Version: version });
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    this.replyJson(res, status, body, CONTENT_TYPE);
  }
}
