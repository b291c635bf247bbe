import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

import {
  AwsCaller,
  createDynamoDbClient,
  type AwsCallTimeouts,
} from '../../service/src/aws/clients';
import { DependencyError } from '../../service/src/dependencies/outcome';
import { DependencyMetrics } from '../../service/src/metrics/emf';
import { createServiceTable, startDynalite, type DynaliteServer } from '../support/dynalite';
import { freePort } from '../support/memcached';

/**
 * Outbound DynamoDB calls against loopback servers that fail in each way that matters, checking
 * the outcome the logs and metrics report, and that only retryable failures are retried.
 */

const TIMEOUTS: AwsCallTimeouts = {
  connectTimeoutMs: 300,
  requestTimeoutMs: 300,
  deadlineMs: 3000,
  maxAttempts: 3,
};

interface Recorded {
  readonly lines: Array<Record<string, unknown>>;
  readonly warnings: Array<Record<string, unknown>>;
}

function setUp(
  endpoint: string,
  overrides: Partial<AwsCallTimeouts> = {},
): {
  client: DynamoDBDocumentClient;
  caller: AwsCaller;
  metrics: DependencyMetrics;
  recorded: Recorded;
} {
  const recorded: Recorded = { lines: [], warnings: [] };
  const log = {
    info: (fields: Record<string, unknown>) => recorded.lines.push(fields),
    warn: (fields: Record<string, unknown>) => recorded.warnings.push(fields),
  };
  const metrics = new DependencyMetrics({ namespace: 'Test', region: 'us-east-1' }, log);
  const timeouts = { ...TIMEOUTS, ...overrides };
  const client = createDynamoDbClient('us-east-1', timeouts, endpoint);
  return { client, caller: new AwsCaller('dynamodb', timeouts, metrics, log), metrics, recorded };
}

async function getItem(client: DynamoDBDocumentClient, caller: AwsCaller, table = 'items') {
  return caller.call('GetItem', (abortSignal) =>
    client.send(new GetCommand({ TableName: table, Key: { pk: 'item#x' } }), { abortSignal }),
  );
}

async function failure(promise: Promise<unknown>): Promise<DependencyError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DependencyError) return error;
    throw error;
  }
  throw new Error('the call succeeded');
}

/** A DynamoDB-API lookalike that answers every request with one fixed error, and counts them. */
async function erroringServer(
  status: number,
  type: string,
): Promise<{ server: HttpServer; endpoint: string; requests: () => number }> {
  let requests = 0;
  const server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      response.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': 'test',
      });
      response.end(
        JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'injected' }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}`, requests: () => requests };
}

/** Accepts connections and never answers; optionally stops listening after the first one. */
async function silentServer(options: {
  closeAfterFirst: boolean;
}): Promise<{ server: NetServer; endpoint: string; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createNetServer((socket) => {
    sockets.push(socket);
    if (options.closeAfterFirst) server.close();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, endpoint: `http://127.0.0.1:${port}`, sockets };
}

function closeHttp(server: HttpServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function outcomesOf(recorded: Recorded): Record<string, number> {
  return Object.fromEntries(
    recorded.lines.map((line) => [line.Outcome as string, line.DependencyCalls as number]),
  );
}

test('a refused connection is "failed-before-send": the call certainly did not happen', async () => {
  // GIVEN an endpoint nothing listens on
  const { client, caller, metrics, recorded } = setUp(`http://127.0.0.1:${await freePort()}`);

  // WHEN a call is made
  const error = await failure(getItem(client, caller));
  metrics.flush();

  // THEN every attempt failed before sending, and the logs and metrics say so
  expect(error.outcome).toBe('failed-before-send');
  expect(error.attempts).toBe(3);
  expect(error.mayHaveHappened).toBe(false);
  expect(outcomesOf(recorded)).toEqual({ 'failed-before-send': 1 });
  expect(recorded.warnings[0]).toMatchObject({
    dependency: 'dynamodb',
    operation: 'GetItem',
    outcome: 'failed-before-send',
  });
  client.destroy();
});

test('a request that was sent and never answered is "unknown": it may have happened', async () => {
  const silent = await silentServer({ closeAfterFirst: false });
  const { client, caller } = setUp(silent.endpoint);

  const error = await failure(getItem(client, caller));

  expect(error.outcome).toBe('unknown');
  expect(error.mayHaveHappened).toBe(true);
  client.destroy();
  for (const socket of silent.sockets) socket.destroy();
  silent.server.close();
});

test('a timeout followed by refused retries is still "unknown": the first attempt may have landed', async () => {
  const silent = await silentServer({ closeAfterFirst: true });
  const { client, caller } = setUp(silent.endpoint);

  const error = await failure(getItem(client, caller));

  expect(error.outcome).toBe('unknown');
  expect(error.attempts).toBe(3);
  client.destroy();
  for (const socket of silent.sockets) socket.destroy();
});

test('a 500 is "retryable" and is retried up to the attempt limit', async () => {
  const failing = await erroringServer(500, 'InternalServerError');
  const { client, caller } = setUp(failing.endpoint);

  const error = await failure(getItem(client, caller));

  expect(error.outcome).toBe('retryable');
  expect(failing.requests()).toBe(3);
  client.destroy();
  await closeHttp(failing.server);
});

test('a client for conditional writes (sdkRetries: false) makes one attempt on a 500: its caller reads back instead', async () => {
  // GIVEN a dependency that answers every request with a 500, and a client without SDK retries
  const failing = await erroringServer(500, 'InternalServerError');
  const log = { info: () => undefined, warn: () => undefined };
  const metrics = new DependencyMetrics({ namespace: 'Test', region: 'us-east-1' }, log);
  const client = createDynamoDbClient('us-east-1', TIMEOUTS, failing.endpoint, {
    sdkRetries: false,
  });
  const caller = new AwsCaller('dynamodb', TIMEOUTS, metrics, log);

  // WHEN a call is made
  const error = await failure(getItem(client, caller));

  // THEN it was sent once, and may have happened
  expect(failing.requests()).toBe(1);
  expect(error.outcome).toBe('retryable');
  expect(error.mayHaveHappened).toBe(true);
  client.destroy();
  await closeHttp(failing.server);
});

test('throttling is "retryable" and is retried', async () => {
  const failing = await erroringServer(400, 'ProvisionedThroughputExceededException');
  // Two attempts: the SDK backs off up to a second after throttling.
  const { client, caller } = setUp(failing.endpoint, { maxAttempts: 2 });

  const error = await failure(getItem(client, caller));

  expect(error.outcome).toBe('retryable');
  expect(failing.requests()).toBe(2);
  client.destroy();
  await closeHttp(failing.server);
});

test('a validation error is "fatal" and is not retried', async () => {
  const failing = await erroringServer(400, 'ValidationException');
  const { client, caller } = setUp(failing.endpoint);

  const error = await failure(getItem(client, caller));

  expect(error.outcome).toBe('fatal');
  expect(failing.requests()).toBe(1);
  client.destroy();
  await closeHttp(failing.server);
});

describe('against dynalite', () => {
  let dynalite: DynaliteServer;

  beforeAll(async () => {
    dynalite = await startDynalite();
    await createServiceTable(dynalite.endpoint, 'items');
  });

  afterAll(async () => {
    await dynalite.stop();
  });

  test('a missing table is "fatal"; a good call is "ok"', async () => {
    const { client, caller, metrics, recorded } = setUp(dynalite.endpoint);

    const error = await failure(getItem(client, caller, 'no-such-table'));
    await getItem(client, caller, 'items');
    metrics.flush();

    expect(error.outcome).toBe('fatal');
    expect(outcomesOf(recorded)).toEqual({ fatal: 1, ok: 1 });
    expect(recorded.lines[0]).toMatchObject({
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Test',
            Dimensions: [['Region', 'Dependency', 'Outcome']],
            Metrics: [{ Name: 'DependencyCalls', Unit: 'Count' }],
          },
        ],
      },
      Region: 'us-east-1',
      Dependency: 'dynamodb',
    });
    client.destroy();
  });
});

test('the retry budget runs out under sustained failure: later calls are not retried (no retry storm)', async () => {
  // GIVEN a dependency that fails every request with a retryable error
  const failing = await erroringServer(500, 'InternalServerError');
  const { client, caller } = setUp(failing.endpoint);

  // WHEN many calls are made one after another
  const requestsPerCall: number[] = [];
  for (let call = 0; call < 30; call += 1) {
    const before = failing.requests();
    await failure(getItem(client, caller));
    requestsPerCall.push(failing.requests() - before);
  }

  // THEN the first calls are retried, and once the SDK's retry quota is spent calls make one attempt
  expect(requestsPerCall.slice(0, 5)).toEqual([3, 3, 3, 3, 3]);
  expect(requestsPerCall.slice(-5)).toEqual([1, 1, 1, 1, 1]);
  client.destroy();
  await closeHttp(failing.server);
});
