/**
 * A real DynamoDB-API server (dynalite, in memory) on a free loopback port, with the chaos state
 * table created: partition key `pk` (String), as the construct creates it. Its tables are reached
 * through the functions' own signed DynamoDB client (`dynamodb-api.ts`); `client` is the SDK's,
 * for what only tests do (create tables, scan).
 */
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';

import { DynamoDbApi } from '../../lambda/shared/dynamodb-api';
import type { StateTable } from '../../lambda/shared/state-table';
import { signedClientOptions } from '../support/signed-client-options';

type DynaliteFactory = (options: { createTableMs?: number; deleteTableMs?: number }) => Server;
// dynalite ships no type declarations; load it untyped and give it the one signature we use.
const dynalite = createRequire(__filename)('dynalite') as DynaliteFactory;

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly table: StateTable;
  /** Creates another empty table (e.g. one per test) and returns it. */
  createTable(name: string): Promise<StateTable>;
  close(): Promise<void>;
}

export async function startLocalDynamo(tableName = 'chaos-state'): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', maxAttempts: 1 });
  // The production timeout: dynalite runs in the test's own process, slow when the machine is busy.
  const api = new DynamoDbApi(signedClientOptions(endpoint, [], { requestTimeoutMs: 5_000 }));

  const createTable = async (name: string): Promise<StateTable> => {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    for (let i = 0; i < 50; i++) {
      const out = await client.send(new DescribeTableCommand({ TableName: name }));
      if (out.Table?.TableStatus === 'ACTIVE') return { api, tableName: name };
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${name} did not become ACTIVE`);
  };

  return {
    endpoint,
    client,
    table: await createTable(tableName),
    createTable,
    async close() {
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
