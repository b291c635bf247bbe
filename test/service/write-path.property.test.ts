import { GetCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';

import { createDynamoDbClient, DEFAULT_AWS_TIMEOUTS } from '../../service/src/aws/clients';
import { ITEM_PREFIX } from '../../service/src/items/items-store';
import {
  dynamoOperation,
  memcachedOperation,
  type FaultAction,
  type RequestMatcher,
} from '../support/fault-proxy';

import { api, putItem, startHarness, type ApiResponse, type Harness } from './harness';

/**
 * Property: concurrent clients write and read one item through the real service while a fault
 * proxy drops, holds, delays and resets single DynamoDB and memcached answers. Whatever happens:
 * - no acknowledged write is lost: two acknowledged writes never share a version, and every
 *   version ever seen has one content;
 * - an Idempotency-Key applies at most once: all its answers are the same write;
 * - no client is told a write failed (412, 422, 503) when it is stored;
 * - the stored version count is the acknowledged writes plus at most the UNKNOWN (504) ones;
 * - reads are within the staleness bound (READ_STALENESS_BOUND_MS).
 * On failure fast-check prints the seed, the path and the counterexample; rerun one with
 * FC_SEED=<seed> FC_PATH=<path>.
 */

/**
 * Reads must not return a version older than one acknowledged more than
 * READ_STALENESS_BOUND_MS before the read started. 0, as service/README.md states for one region:
 * a read that starts after the client got the acknowledgement sees that write or a later one, even
 * after a lost invalidation or a slow cache fill (the LOST_INVALIDATION example below is that case).
 */
const READ_STALENESS_BOUND_MS = 0;

/**
 * Runs and the time they may take: bounded for CI on a loaded 2-core machine (25 runs took 29 s
 * with two busy loops at load 16; the time limit stops further runs, and at least 3 must run).
 */
const NUM_RUNS = 20;
const TIME_LIMIT_MS = 30_000;

let harness: Harness;
let runCounter = 0;

beforeAll(async () => {
  harness = await startHarness({ memcachedNodes: 1, faultProxies: true });
});

afterAll(async () => {
  await harness.stop();
});

type Op =
  | {
      readonly kind: 'put';
      readonly ifMatch: boolean;
      readonly key: boolean;
      /** Retries with the same key after a 503, 504 or 409 (keyed writes only). */
      readonly retries: number;
    }
  | { readonly kind: 'get' };

type FaultTarget = 'PutItem' | 'GetItem' | 'memcached-get' | 'memcached-delete' | 'memcached-set';

interface FaultSpec {
  readonly target: FaultTarget;
  readonly action: 'lose-response' | 'hang-response' | 'delay-response' | 'reset';
  readonly delayMs: number;
  readonly times: number;
}

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    ifMatch: fc.boolean(),
    key: fc.boolean(),
    retries: fc.integer({ min: 0, max: 2 }),
  }),
  fc.constant({ kind: 'get' as const }),
);

const faultArbitrary: fc.Arbitrary<FaultSpec> = fc.record({
  target: fc.constantFrom<FaultTarget>(
    'PutItem',
    'PutItem',
    'GetItem',
    'memcached-get',
    'memcached-delete',
    'memcached-set',
  ),
  action: fc.constantFrom<FaultSpec['action']>(
    'lose-response',
    'lose-response',
    'delay-response',
    'reset',
    'hang-response',
  ),
  delayMs: fc.integer({ min: 10, max: 400 }),
  times: fc.integer({ min: 1, max: 2 }),
});

const scenarioArbitrary = fc.record({
  /** Whether the item exists and is cached before the faults start. */
  preload: fc.boolean(),
  clients: fc.array(fc.array(opArbitrary, { minLength: 1, maxLength: 4 }), {
    minLength: 2,
    maxLength: 3,
  }),
  faults: fc.array(faultArbitrary, { minLength: 0, maxLength: 3 }),
});

type Scenario = typeof scenarioArbitrary extends fc.Arbitrary<infer T> ? T : never;

/**
 * Always run first: a cached item whose invalidation never reaches memcached (reset before it
 * lands), then read again. Without a coherent cache this read is stale for the cache TTL.
 */
const LOST_INVALIDATION: Scenario = {
  preload: true,
  clients: [
    [{ kind: 'put', ifMatch: true, key: true, retries: 0 }, { kind: 'get' }],
    [{ kind: 'get' }],
  ],
  faults: [{ target: 'memcached-delete', action: 'reset', delayMs: 10, times: 1 }],
};

/** One logical write (its retries included) and how it ended. */
interface WriteRecord {
  readonly name: string;
  readonly key?: string;
  outcome: 'acked' | 'failed' | 'unknown';
  /** Every answer it got. */
  readonly answers: Array<{
    status: number;
    error?: string;
    version?: number;
    etag?: string;
    body: string;
  }>;
  ackedAt?: number;
  version?: number;
}

interface ReadRecord {
  readonly startedAt: number;
  readonly status: number;
  readonly version?: number;
  readonly name?: string;
}

function matcherFor(target: FaultTarget, id: string): RequestMatcher {
  switch (target) {
    case 'PutItem': {
      // The item's write (UpdateItem matches the writes of the code before this design too).
      const put = dynamoOperation('PutItem', `${ITEM_PREFIX}${id}"`);
      const update = dynamoOperation('UpdateItem', `${ITEM_PREFIX}${id}"`);
      return (request) => put(request) || update(request);
    }
    case 'GetItem':
      return dynamoOperation('GetItem', `${ITEM_PREFIX}${id}"`);
    case 'memcached-get':
      return memcachedOperation('get');
    case 'memcached-delete':
      return memcachedOperation('delete');
    case 'memcached-set':
      return memcachedOperation('set');
  }
}

function actionFor(spec: FaultSpec): FaultAction {
  return spec.action === 'delay-response'
    ? { kind: 'delay-response', delayMs: spec.delayMs }
    : { kind: spec.action };
}

function errorCode(response: ApiResponse): string | undefined {
  try {
    return response.json<{ error?: string }>().error;
  } catch {
    return undefined;
  }
}

async function storedItem(id: string): Promise<Record<string, unknown> | undefined> {
  const client = createDynamoDbClient('us-east-1', DEFAULT_AWS_TIMEOUTS, harness.dynalite.endpoint);
  try {
    const output = await client.send(
      new GetCommand({
        TableName: harness.config.tableName,
        Key: { pk: ITEM_PREFIX + id },
        ConsistentRead: true,
      }),
    );
    return output.Item;
  } finally {
    client.destroy();
  }
}

async function runScenario(scenario: Scenario): Promise<void> {
  runCounter += 1;
  const id = `prop-${process.pid}-${runCounter}`;
  const dynamo = harness.dynamoDbProxy!;
  const cache = harness.memcachedProxies![0];
  const writes: WriteRecord[] = [];
  if (scenario.preload) {
    const created = await putItem(harness.baseUrl, id, { name: 'preload', price: 1 });
    expect(created.status).toBe(201);
    writes.push({
      name: 'preload',
      outcome: 'acked',
      answers: [{ status: 201, body: created.text }],
      ackedAt: Date.now(),
      version: 1,
    });
    expect((await api(harness.baseUrl, `/api/items/${id}`)).status).toBe(200);
  }
  for (const spec of scenario.faults) {
    const proxy = spec.target.startsWith('memcached') ? cache : dynamo;
    proxy.inject({
      match: matcherFor(spec.target, id),
      action: actionFor(spec),
      times: spec.times,
    });
  }
  const reads: ReadRecord[] = [];
  const unexpected: string[] = [];

  const read = async (): Promise<ApiResponse> => {
    const startedAt = Date.now();
    const response = await api(harness.baseUrl, `/api/items/${id}`);
    if (response.status === 200) {
      const body = response.json<{ version: number; name: string }>();
      reads.push({ startedAt, status: 200, version: body.version, name: body.name });
    } else {
      reads.push({ startedAt, status: response.status });
      if (response.status !== 404 && response.status !== 503) {
        unexpected.push(`GET answered ${response.status}: ${response.text.slice(0, 200)}`);
      }
    }
    return response;
  };

  const write = async (client: number, index: number, op: Extract<Op, { kind: 'put' }>) => {
    const name = `c${client}-op${index}`;
    const record: WriteRecord = {
      name,
      key: op.key ? `${id}-${name}` : undefined,
      outcome: 'failed',
      answers: [],
    };
    writes.push(record);
    const headers: Record<string, string> = {};
    if (record.key) headers['idempotency-key'] = record.key;
    if (op.ifMatch) {
      const current = await read();
      const etag = current.headers.get('etag');
      if (current.status === 200 && etag) headers['if-match'] = etag;
    }
    const attempts = record.key ? 1 + op.retries : 1;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const response = await putItem(harness.baseUrl, id, { name, price: 1 }, headers);
      const error = errorCode(response);
      const answer: WriteRecord['answers'][number] = {
        status: response.status,
        error,
        body: response.text,
      };
      if (response.status === 200 || response.status === 201) {
        const body = response.json<{ version: number }>();
        answer.version = body.version;
        answer.etag = response.headers.get('etag') ?? undefined;
        record.answers.push(answer);
        record.outcome = 'acked';
        record.version = body.version;
        record.ackedAt ??= Date.now();
        return;
      }
      record.answers.push(answer);
      if (response.status === 504 && error === 'write_outcome_unknown') {
        record.outcome = 'unknown';
      } else if (response.status === 503) {
        if (response.headers.get('retry-after') === null) {
          unexpected.push(`503 without Retry-After: ${response.text.slice(0, 200)}`);
        }
        // Not applied by this attempt; an earlier UNKNOWN attempt stays unknown.
      } else if (response.status === 412 || response.status === 409) {
        // Told it failed (412) or is in progress (409).
      } else {
        unexpected.push(`PUT answered ${response.status}: ${response.text.slice(0, 200)}`);
      }
      if (response.status === 412) return;
    }
  };

  await Promise.all(
    scenario.clients.map(async (ops, client) => {
      for (const [index, op] of ops.entries()) {
        if (op.kind === 'get') await read();
        else await write(client, index, op);
      }
    }),
  );
  dynamo.heal();
  cache.heal();
  // A final read through the service, after every fault has cleared.
  await read();

  const stored = await storedItem(id);
  const storedVersion = (stored?.version as number | undefined) ?? 0;
  const acked = writes.filter((record) => record.outcome === 'acked');
  const unknown = writes.filter((record) => record.outcome === 'unknown');
  const failed = writes.filter((record) => record.outcome === 'failed');
  const problems = [...unexpected];

  // No acknowledged write lost: distinct acknowledged writes have distinct versions.
  const ackedVersions = acked.map((record) => record.version!);
  if (new Set(ackedVersions).size !== ackedVersions.length) {
    problems.push(`two acknowledged writes share a version: ${ackedVersions.join(',')}`);
  }
  if (ackedVersions.some((version) => version > storedVersion)) {
    problems.push(`an acknowledged version is above the stored ${storedVersion}`);
  }
  // Every version seen (in answers and reads) has exactly one content.
  const contentOf = new Map<number, string>();
  const see = (version: number | undefined, name: string | undefined, where: string) => {
    if (version === undefined || name === undefined) return;
    const known = contentOf.get(version);
    if (known !== undefined && known !== name) {
      problems.push(`version ${version} seen as ${known} and as ${name} (${where})`);
    }
    contentOf.set(version, name);
  };
  for (const record of acked) see(record.version, record.name, `ack of ${record.name}`);
  for (const entry of reads) see(entry.version, entry.name, 'a read');
  see(storedVersion, stored?.name as string | undefined, 'the stored item');
  // At most one application per Idempotency-Key: every 2xx answer for a key is the same write.
  for (const record of writes) {
    const bodies = new Set(record.answers.filter((a) => a.status < 300).map((a) => a.body));
    if (bodies.size > 1) problems.push(`${record.name} got different successful answers`);
  }
  // Each application adds one version: acknowledged + (some of the) unknown ones, nothing else.
  if (storedVersion < acked.length || storedVersion > acked.length + unknown.length) {
    problems.push(
      `stored version ${storedVersion} is not within acknowledged ${acked.length} + unknown ${unknown.length}`,
    );
  }
  // No client told its write failed when it is stored (or was ever seen stored).
  const failedNames = new Set(failed.map((record) => record.name));
  for (const [version, name] of contentOf) {
    if (failedNames.has(name))
      problems.push(`${name} was told it failed but is stored (v${version})`);
  }
  // Reads within the staleness bound.
  const staleReads: string[] = [];
  for (const entry of reads) {
    for (const record of acked) {
      if (record.ackedAt! < entry.startedAt - READ_STALENESS_BOUND_MS) {
        if (entry.status === 404 || (entry.version ?? 0) < record.version!) {
          staleReads.push(
            `a read started ${entry.startedAt - record.ackedAt!} ms after v${record.version} was acknowledged returned ${entry.status === 404 ? '404' : `v${entry.version}`}`,
          );
        }
      }
    }
  }
  problems.push(...staleReads);
  if (problems.length > 0) {
    throw new Error(
      `${problems.join('\n')}\nwrites: ${JSON.stringify(
        writes.map(({ name, key, outcome, version, answers }) => ({
          name,
          key: key !== undefined,
          outcome,
          version,
          statuses: answers.map((a) => `${a.status}${a.error ? ` ${a.error}` : ''}`),
        })),
      )}\nstored: v${storedVersion} ${String(stored?.name)}`,
    );
  }
}

test('concurrent clients under lost, held, delayed and reset dependency answers: no acknowledged write lost, one application per Idempotency-Key, no failure reported for a stored write', async () => {
  const seed = process.env.FC_SEED
    ? Number(process.env.FC_SEED)
    : Date.now() ^ (Math.random() * 0x100000000);
  let runs = 0;
  console.log(`write-path property: seed ${seed}`);
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary, async (scenario) => {
      runs += 1;
      try {
        await runScenario(scenario);
      } finally {
        harness.dynamoDbProxy!.heal();
        harness.memcachedProxies![0].heal();
      }
    }),
    {
      seed,
      path: process.env.FC_PATH,
      examples: process.env.FC_PATH ? [] : [[LOST_INVALIDATION]],
      numRuns: NUM_RUNS,
      // Real servers make shrinking slow; the first counterexample and its seed are reported.
      endOnFailure: true,
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      markInterruptAsFailure: false,
    },
  );
  // The time limit may cut the runs short on a very slow machine; at least a few must run.
  expect(runs).toBeGreaterThanOrEqual(3);
}, 90_000);
