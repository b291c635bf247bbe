/**
 * The small signed clients send what the SDK's own clients send, checked against the SDK on one
 * loopback server: the fakes do not verify signatures, so a path canonicalized differently (a 403
 * SignatureDoesNotMatch in AWS) or a wrong protocol header would pass every other test.
 * - S3's PutObject: the same path on the wire and the same canonical URI in the signature, for keys
 *   with reserved, unreserved and non-ASCII characters;
 * - ECS, SSM, CloudWatch and DynamoDB: the same content type, target and body;
 * - ELBv2 and ElastiCache (query protocol): the same content type and form parameters.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { DescribeAlarmsCommand, CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, ECSClient, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DescribeCacheClustersCommand,
  ElastiCacheClient,
  RebootCacheClusterCommand,
} from '@aws-sdk/client-elasticache';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { SignatureV4 } from '@smithy/signature-v4';

import { CloudWatchApi } from '../../lambda/shared/cloudwatch-api';
import { DynamoDbApi } from '../../lambda/shared/dynamodb-api';
import { EcsApi } from '../../lambda/shared/ecs-api';
import { ElastiCacheApi } from '../../lambda/shared/elasticache-api';
import { Elbv2Api } from '../../lambda/shared/elbv2-api';
import { S3Objects } from '../../lambda/shared/s3-objects';
import { SsmApi } from '../../lambda/shared/ssm-api';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
/** Connections the server accepted. */
let connections = 0;
/** The canonical requests the signer built, in order (both clients sign with SignatureV4). */
const canonical: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(req.method === 'PUT' ? '' : '{}');
    });
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const base = Object.getPrototypeOf(SignatureV4.prototype) as {
    createCanonicalRequest: (...args: unknown[]) => string;
  };
  const original = base.createCanonicalRequest;
  jest.spyOn(base, 'createCanonicalRequest').mockImplementation(function (
    this: unknown,
    ...args: unknown[]
  ) {
    const text = original.apply(this, args);
    canonical.push(text);
    return text;
  });
});
afterAll(async () => {
  jest.restoreAllMocks();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen.length = 0;
  canonical.length = 0;
});

const ours = () => ({
  region: 'eu-west-1',
  endpoint,
  credentials: () => Promise.resolve(credentials),
  maxAttempts: 1,
});

test.each([
  'reports/az-outage/gd-az-outage-20261201-100000.json',
  "reports/x/a b+c~d*e(f)!g'h=i&j@k$l,m;n:o.json",
  'reports/x/ünï©ødé.json',
])(
  'S3 PutObject of %j: the same path on the wire and the same canonical URI as the SDK',
  async (key) => {
    // GIVEN the SDK's S3 client and ours, path-style against one server
    const sdk = new S3Client({
      region: 'eu-west-1',
      endpoint,
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });

    // WHEN each puts the same object
    await sdk.send(
      new PutObjectCommand({
        Bucket: 'reports-bucket',
        Key: key,
        Body: '{}',
        ContentType: 'application/json',
      }),
    );
    await new S3Objects(ours()).put('reports-bucket', key, '{}', 'application/json');
    sdk.destroy();

    // THEN (the SDK adds `?x-id=PutObject`, which it does not sign)
    const [sdkSeen, oursSeen] = seen;
    expect(oursSeen.url).toBe(sdkSeen.url.replace(/\?x-id=PutObject$/, ''));
    const uri = (text: string) => text.split('\n')[1];
    expect(canonical).toHaveLength(2);
    expect(uri(canonical[1])).toBe(uri(canonical[0]));
    expect(oursSeen.headers['x-amz-content-sha256']).toBe(sdkSeen.headers['x-amz-content-sha256']);
  },
);

test('ECS, SSM, CloudWatch and DynamoDB: the same content type, target and body as the SDK', async () => {
  // GIVEN
  const sdkConfig = { region: 'eu-west-1', endpoint, credentials, maxAttempts: 1 };

  // WHEN each client makes the same call
  await new ECSClient(sdkConfig).send(
    new DescribeServicesCommand({ cluster: 'c', services: ['s'] }),
  );
  await new EcsApi(ours()).call('DescribeServices', { cluster: 'c', services: ['s'] });
  await new ECSClient(sdkConfig).send(
    new StopTaskCommand({ cluster: 'c', task: 't', reason: 'r' }),
  );
  await new EcsApi(ours()).call('StopTask', { cluster: 'c', task: 't', reason: 'r' });
  await new SSMClient(sdkConfig).send(new GetParameterCommand({ Name: '/b/faults' }));
  await new SsmApi(ours()).call('GetParameter', { Name: '/b/faults' });
  const put = {
    Name: '/b/faults',
    Value: '{"faults":[]}',
    Type: 'String',
    Overwrite: true,
  } as const;
  await new SSMClient(sdkConfig).send(new PutParameterCommand(put));
  await new SsmApi(ours()).call('PutParameter', put);
  await new CloudWatchClient(sdkConfig).send(
    new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmTypes: ['MetricAlarm'], MaxRecords: 100 }),
  );
  await new CloudWatchApi(ours()).alarms(['a'], ['MetricAlarm']);
  await new DynamoDBClient(sdkConfig).send(
    new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } }, ConsistentRead: true }),
  );
  await new DynamoDbApi(ours()).reads('t')({ pk: 'x' });
  const putItem = {
    TableName: 't',
    Item: { pk: { S: 'state#s' }, version: { N: '2' }, writeId: { S: 'w' } },
    ConditionExpression: '(#status = :status AND #version = :version) OR writeId = :writeId',
    ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
    ExpressionAttributeValues: {
      ':status': { S: 'planned' },
      ':version': { N: '1' },
      ':writeId': { S: 'w' },
    },
  };
  await new DynamoDBClient(sdkConfig).send(new PutItemCommand(putItem));
  await new DynamoDbApi(ours()).call('PutItem', putItem, { idempotent: true });

  // THEN pairwise
  expect(seen).toHaveLength(14);
  for (let i = 0; i < seen.length; i += 2) {
    const [sdk, mine] = [seen[i], seen[i + 1]];
    expect(`${mine.method} ${mine.url}`).toBe(`${sdk.method} ${sdk.url}`);
    expect(mine.headers['content-type']).toBe(sdk.headers['content-type']);
    expect(mine.headers['x-amz-target']).toBe(sdk.headers['x-amz-target']);
    expect(JSON.parse(mine.body)).toEqual(JSON.parse(sdk.body));
  }
});

test('ELBv2 and ElastiCache: the same content type and form parameters as the SDK', async () => {
  // GIVEN a server that answers each query operation with an empty result
  const sdkConfig = { region: 'eu-west-1', endpoint, credentials, maxAttempts: 1 };
  const tg = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/api/0123456789abcdef';

  // WHEN each client makes the same calls (the answers do not matter here: the server's `{}` is
  // unreadable XML, so ours gives up after one attempt and the SDK's throws; only requests count)
  const quietly = (call: Promise<unknown>) => call.catch(() => undefined);
  await quietly(
    new ElasticLoadBalancingV2Client(sdkConfig).send(
      new DescribeTargetHealthCommand({ TargetGroupArn: tg }),
    ),
  );
  await quietly(new Elbv2Api(ours()).describeTargetHealth(tg));
  await quietly(
    new ElastiCacheClient(sdkConfig).send(
      new DescribeCacheClustersCommand({ CacheClusterId: 'c', ShowCacheNodeInfo: true }),
    ),
  );
  await quietly(new ElastiCacheApi(ours()).cacheNodes('c'));
  await quietly(
    new ElastiCacheClient(sdkConfig).send(
      new RebootCacheClusterCommand({
        CacheClusterId: 'c',
        CacheNodeIdsToReboot: ['0001', '0002'],
      }),
    ),
  );
  await quietly(new ElastiCacheApi(ours()).rebootCacheCluster('c', ['0001', '0002']));

  // THEN pairwise
  expect(seen).toHaveLength(6);
  for (let i = 0; i < seen.length; i += 2) {
    const [sdk, mine] = [seen[i], seen[i + 1]];
    expect(`${mine.method} ${mine.url}`).toBe(`${sdk.method} ${sdk.url}`);
    expect(mine.headers['content-type']).toBe(sdk.headers['content-type']);
    expect(Object.fromEntries(new URLSearchParams(mine.body))).toEqual(
      Object.fromEntries(new URLSearchParams(sdk.body)),
    );
  }
});

test('a write goes on a connection of its own; reads reuse a kept-alive one', async () => {
  // GIVEN one client, and a connection it already holds
  const ecs = new EcsApi(ours());
  await ecs.call('DescribeServices', { cluster: 'c', services: ['s'] });
  const before = connections;

  // WHEN two reads, then two writes
  await ecs.call('DescribeServices', { cluster: 'c', services: ['s'] });
  await ecs.call('DescribeServices', { cluster: 'c', services: ['s'] });
  const afterReads = connections;
  await ecs.call('UpdateService', { cluster: 'c', service: 's', desiredCount: 1 });
  await ecs.call('UpdateService', { cluster: 'c', service: 's', desiredCount: 2 });

  // THEN the reads opened none (a stale kept-alive socket is harmless to a read, which is asked
  // again), and each write opened its own (a reset write is UNKNOWN, so it must not be a stale one)
  expect(afterReads).toBe(before);
  expect(connections).toBe(afterReads + 2);
});
