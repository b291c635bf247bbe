/**
 * A local stand-in for Step Functions, for the game-day CLI tests: an in-memory model of one
 * state machine whose executions play a recorded script, one step per DescribeExecution (so the
 * run advances as the CLI polls), and an HTTP server on 127.0.0.1 that speaks the awsJson1_0
 * protocol (X-Amz-Target: AWSStepFunctions.<Operation>) the real SFN client uses.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:GameDay';

/** One recorded event, before the model numbers it. */
export interface ScriptedEvent {
  readonly type: HistoryEventType;
  /** Seconds after the execution started. */
  readonly at: number;
  readonly entered?: string;
  readonly exited?: { readonly name: string; readonly output: unknown };
}

export interface ExecutionScript {
  /** Each DescribeExecution while steps remain appends one step's events and answers RUNNING. */
  readonly steps: readonly (readonly ScriptedEvent[])[];
  readonly end:
    | { readonly status: 'SUCCEEDED'; readonly at: number; readonly output: unknown }
    | {
        readonly status: 'FAILED';
        readonly at: number;
        readonly error: string;
        readonly cause: string;
      };
}

interface Execution {
  readonly arn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  readonly events: HistoryEvent[];
  readonly script: ExecutionScript;
  polls: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
}

/** Thrown for modeled service errors; the server answers them as awsJson errors. */
export class FakeServiceError extends Error {
  constructor(
    public readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export class FakeStepFunctions {
  private readonly executions = new Map<string, Execution>();
  /** Every operation called, in order. */
  public readonly calls: string[] = [];

  constructor(
    private readonly script: (input: unknown) => ExecutionScript,
    private readonly startDate = new Date('2026-11-21T10:00:00.000Z'),
  ) {}

  private append(execution: Execution, event: ScriptedEvent): void {
    const id = execution.events.length + 1;
    execution.events.push({
      id,
      previousEventId: id - 1,
      type: event.type,
      timestamp: new Date(execution.startDate.getTime() + event.at * 1000),
      ...(event.entered ? { stateEnteredEventDetails: { name: event.entered, input: '{}' } } : {}),
      ...(event.exited
        ? {
            stateExitedEventDetails: {
              name: event.exited.name,
              output: JSON.stringify(event.exited.output),
            },
          }
        : {}),
    });
  }

  startExecution(input: { stateMachineArn?: string; name?: string; input?: string }) {
    this.calls.push('StartExecution');
    if (input.stateMachineArn !== STATE_MACHINE_ARN) {
      throw new FakeServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${input.stateMachineArn}'`,
      );
    }
    const name = input.name ?? 'unnamed';
    const arn = `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
    if (this.executions.has(arn)) {
      throw new FakeServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const execution: Execution = {
      arn,
      name,
      input: input.input ?? '{}',
      startDate: this.startDate,
      events: [],
      script: this.script(JSON.parse(input.input ?? '{}')),
      polls: 0,
      status: 'RUNNING',
    };
    this.append(execution, { type: 'ExecutionStarted', at: 0 });
    this.executions.set(arn, execution);
    return { executionArn: arn, startDate: execution.startDate };
  }

  private get(arn: string | undefined): Execution {
    const execution = arn ? this.executions.get(arn) : undefined;
    if (!execution) throw new FakeServiceError('ExecutionDoesNotExist', `no execution ${arn}`);
    return execution;
  }

  describeExecution(input: { executionArn?: string }) {
    this.calls.push('DescribeExecution');
    const execution = this.get(input.executionArn);
    const { steps, end } = execution.script;
    if (execution.status === 'RUNNING') {
      if (execution.polls < steps.length) {
        for (const event of steps[execution.polls]) this.append(execution, event);
      } else {
        execution.status = end.status;
        this.append(execution, {
          type: end.status === 'SUCCEEDED' ? 'ExecutionSucceeded' : 'ExecutionFailed',
          at: end.at,
        });
      }
      execution.polls += 1;
    }
    return {
      executionArn: execution.arn,
      stateMachineArn: STATE_MACHINE_ARN,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      input: execution.input,
      ...(execution.status === 'RUNNING'
        ? {}
        : { stopDate: new Date(execution.startDate.getTime() + end.at * 1000) }),
      ...(execution.status === 'SUCCEEDED' && end.status === 'SUCCEEDED'
        ? { output: JSON.stringify(end.output) }
        : {}),
      ...(execution.status === 'FAILED' && end.status === 'FAILED'
        ? { error: end.error, cause: end.cause }
        : {}),
    };
  }

  getExecutionHistory(input: {
    executionArn?: string;
    reverseOrder?: boolean;
    maxResults?: number;
    nextToken?: string;
  }) {
    this.calls.push('GetExecutionHistory');
    const execution = this.get(input.executionArn);
    const ordered = input.reverseOrder ? [...execution.events].reverse() : execution.events;
    const start = input.nextToken ? Number(input.nextToken) : 0;
    const size = input.maxResults ?? 1000;
    const page = ordered.slice(start, start + size);
    const next = start + size < ordered.length ? String(start + size) : undefined;
    return { events: page, ...(next ? { nextToken: next } : {}) };
  }

  /** The one execution started, for assertions. */
  only(): { readonly name: string; readonly input: unknown } {
    const [execution] = [...this.executions.values()];
    return { name: execution.name, input: JSON.parse(execution.input) as unknown };
  }
}

/** JSON with dates as epoch seconds, as the awsJson1_0 protocol sends timestamps. */
const toWire = (value: unknown): string =>
  JSON.stringify(value, function (key, v: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });

/** Serves `fake` on 127.0.0.1 at a free port; `close` stops it and its connections. */
export async function startFakeSfnServer(
  fake: FakeStepFunctions,
): Promise<{ readonly endpoint: string; readonly targets: string[]; close(): Promise<void> }> {
  const targets: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      targets.push(`${target} ${String(request.headers['content-type'])}`);
      const reply = (status: number, body: unknown) => {
        response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
        response.end(toWire(body));
      };
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<
          string,
          never
        >;
        switch (target) {
          case 'AWSStepFunctions.StartExecution':
            return reply(200, fake.startExecution(input));
          case 'AWSStepFunctions.DescribeExecution':
            return reply(200, fake.describeExecution(input));
          case 'AWSStepFunctions.GetExecutionHistory':
            return reply(200, fake.getExecutionHistory(input));
          default:
            return reply(400, {
              __type: 'UnknownOperationException',
              message: `unknown target ${target}`,
            });
        }
      } catch (error) {
        if (error instanceof FakeServiceError) {
          return reply(400, { __type: error.type, message: error.message });
        }
        return reply(500, { __type: 'InternalFailure', message: String(error) });
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    targets,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
