import { spawn } from 'node:child_process';
import type { Server } from 'node:http';

import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

import { freePort } from './memcached';

/**
 * Starts dynalite, a real DynamoDB-API server (LevelDB in memory), on a free loopback port for
 * tests, the local service and the game day. Only 127.0.0.1 is ever bound.
 */

const HOST = '127.0.0.1';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number }) => Server;
// dynalite ships no type definitions; this is the one function used.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require('dynalite') as DynaliteFactory;

export interface DynaliteServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, as DYNAMODB_ENDPOINT takes it. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** dynalite inside this process: fastest to start, for tests. */
export async function startDynalite(): Promise<DynaliteServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;
  return {
    port,
    endpoint: `http://${HOST}:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * dynalite in its own process, so it does not share a CPU with the caller (benchmarks, the local
 * game day). Its CLI reads `--port 0` as "no port" and falls back to 4567, so a free port is
 * picked here, and another one tried if something takes it first.
 */
export async function startDynaliteProcess(): Promise<DynaliteServer> {
  const attempts = 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnDynalite(await freePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt === attempts) throw error;
    }
  }
}

class PortTakenError extends Error {
  override readonly name = 'PortTakenError';
}

async function spawnDynalite(port: number): Promise<DynaliteServer> {
  const cli = require.resolve('dynalite/cli.js');
  const child = spawn(
    process.execPath,
    [cli, '--host', HOST, '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`dynalite did not start within 10 s: ${output}`));
      }, 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/listening at: https?:\/\/[^:]+:\d+/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(
          output.includes('EADDRINUSE')
            ? new PortTakenError(`port ${port} was taken`)
            : new Error(`dynalite exited with ${code}: ${output}`),
        );
      });
    });
  } catch (error) {
    process.removeListener('exit', killOnExit);
    throw error;
  }
  return {
    port,
    endpoint: `http://${HOST}:${port}`,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Creates the service's table as the CDK data stack defines it: partition key `pk` (String) only,
 * on-demand. (TTL on `expiresAt` is enabled in AWS; dynalite does not implement TTL, and the
 * service treats an expired record as absent either way.)
 */
export async function createServiceTable(endpoint: string, tableName: string): Promise<void> {
  // Fixed local credentials: the default chain would otherwise look for real ones.
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  try {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  } finally {
    client.destroy();
  }
}
