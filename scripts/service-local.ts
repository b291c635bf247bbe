/**
 * npm run service:local — the catalog service on this machine, with two real memcached nodes and
 * dynalite (a DynamoDB-API server) on free loopback ports, the table created and seeded.
 *
 * Honours PORT (default 8080), HOST (default 127.0.0.1), FAULTS_FILE (default: a file in the temp
 * directory, which the local game day writes), TASK_ID, AVAILABILITY_ZONE and LOG_LEVEL.
 * Ctrl-C or SIGTERM stops the service (gracefully) and the servers it started.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from '../service/src/config';
import { resolveIdentity } from '../service/src/identity';
import { createService, type Service } from '../service/src/service';
import { createServiceTable, startDynalite, type DynaliteServer } from '../test/support/dynalite';
import { startMemcached, type MemcachedServer } from '../test/support/memcached';

const SAMPLE_ITEMS = [
  { id: 'desk-lamp', name: 'Desk lamp', price: 39.9, tags: ['lighting', 'office'] },
  { id: 'oak-desk', name: 'Oak desk', price: 420, tags: ['furniture', 'office'] },
  { id: 'task-chair', name: 'Task chair', price: 189 },
  { id: 'notebook', name: 'Dotted notebook', price: 12.5, tags: ['paper'] },
  { id: 'fountain-pen', name: 'Fountain pen', price: 64, tags: ['writing'] },
  { id: 'ink-blue', name: 'Blue ink, 50 ml', price: 9.8, tags: ['writing'] },
];

function say(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<void> {
  // Local only: fixed credentials keep the SDK from looking for real ones (or calling IMDS).
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';

  // What is running so far, so a signal during start-up stops it too.
  const memcached: MemcachedServer[] = [];
  const running: { dynalite?: DynaliteServer; service?: Service } = {};
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping the service, memcached and dynalite...`);
    const drained = running.service ? (await running.service.stop()).drained : true;
    await Promise.all(memcached.map((node) => node.stop()));
    await running.dynalite?.stop();
    say('stopped.');
    process.exit(drained ? 0 : 1);
  };
  process.on('SIGINT', () => void stopAll('SIGINT'));
  process.on('SIGTERM', () => void stopAll('SIGTERM'));

  memcached.push(...(await Promise.all([startMemcached(), startMemcached()])));
  const dynalite = await startDynalite();
  running.dynalite = dynalite;
  const tableName = 'blueprint-items-local';
  await createServiceTable(dynalite.endpoint, tableName);

  const faultsFile = process.env.FAULTS_FILE ?? join(tmpdir(), 'blueprint-faults.json');
  if (!existsSync(faultsFile)) writeFileSync(faultsFile, '{"faults":[]}\n');

  const config = loadConfig({
    PORT: '8080',
    HOST: '127.0.0.1',
    TASK_ID: 'local-task-1',
    AVAILABILITY_ZONE: 'local-a',
    AWS_REGION: 'local',
    TRUST_PROXY_HOPS: '0',
    ...process.env,
    MEMCACHED_ENDPOINTS: memcached.map((node) => node.endpoint).join(','),
    TABLE_NAME: tableName,
    DYNAMODB_ENDPOINT: dynalite.endpoint,
    FAULTS_FILE: faultsFile,
    FAULTS_PARAMETER: undefined,
  });
  const identity = await resolveIdentity(config, { warn: (_fields, msg) => say(msg) });
  const service = await createService(config, { identity });
  running.service = service;
  for (const { id, ...item } of SAMPLE_ITEMS) {
    await service.store.put(id, item);
  }
  const address = await service.start();

  say('');
  say(`Catalog service listening on ${address}`);
  say(`  memcached:   ${memcached.map((node) => node.endpoint).join(', ')}`);
  say(
    `  dynalite:    ${dynalite.endpoint} (table ${tableName}, ${SAMPLE_ITEMS.length} sample items)`,
  );
  say(`  faults file: ${faultsFile}`);
  say(`  try:         curl ${address}/api/items  |  curl ${address}/health/ready`);
  say('Ctrl-C stops everything.');
  say('');
}

main().catch((error: unknown) => {
  say(
    error instanceof ConfigError
      ? error.message
      : `service:local failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
