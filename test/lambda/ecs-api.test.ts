/**
 * The small ECS client (lambda/shared/ecs-api.ts) against a fake ECS endpoint on 127.0.0.1 that
 * speaks the JSON protocol (test/support/fake-ecs.ts), with the loopback fault proxy between them
 * for what the network does: a response lost after the request landed, a reset, a black hole.
 */
import { AwsApiError, EcsApi } from '../../lambda/shared/ecs-api';
import { OutcomeUnknownError } from '../../lambda/shared/errors';
import { MAX_BACKOFF_MS, notSentStage } from '../../lambda/shared/signed-http';
import { FakeEcs, fakeFleet } from '../support/fake-ecs';
import { startFaultProxy, type FaultProxy, type RequestMatcher } from '../support/fault-proxy';
import { freePort } from '../support/memcached';
import { signedClientOptions } from '../support/signed-client-options';

const SLOW_MS = 1_500;

const fleet = fakeFleet({ count: 2 });
const cluster = fleet.services[0].clusterArn;
const service = fleet.services[0].serviceArn;

let fake: FakeEcs;
let proxy: FaultProxy;
let ecs: EcsApi;
const backoffs: number[] = [];

function client(endpoint: string): EcsApi {
  return new EcsApi(signedClientOptions(endpoint, backoffs, { random: () => 0.5 }));
}

/** Matches the HTTP request of one ECS operation. */
const ecsOperation =
  (operation: string): RequestMatcher =>
  (request) =>
    request.includes(`AmazonEC2ContainerServiceV20141113.${operation}`);

beforeEach(async () => {
  backoffs.length = 0;
  fake = await FakeEcs.start(fleet);
  proxy = await startFaultProxy({ targetPort: Number(new URL(fake.endpoint).port) });
  ecs = client(proxy.endpoint);
});
afterEach(async () => {
  await proxy.stop();
  await fake.close();
});

const operations = () => fake.calls.map((c) => `${c.operation}:${c.answer}`);

test('GIVEN a read WHEN it is sent THEN it is one signed JSON 1.1 POST for the operation, and the answer is the JSON ECS sent', async () => {
  // WHEN
  const answer = await ecs.call('DescribeServices', { cluster, services: [service] });

  // THEN
  expect(answer.services?.[0]?.serviceArn).toBe(service);
  expect(operations()).toEqual(['DescribeServices:ok']);
  expect(fake.calls[0].input).toEqual({ cluster, services: [service] });
  const signed: RequestMatcher = (request) =>
    /Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ecs\/aws4_request/i.test(
      request.toString('latin1'),
    ) && /content-type: application\/x-amz-json-1\.1/i.test(request.toString('latin1'));
  expect(proxy.requestsSeen(signed)).toBe(1);
});

test('throttled twice: GIVEN ThrottlingException answers WHEN a write is sent THEN it is asked again (a throttle never landed) with full-jitter backoff', async () => {
  // GIVEN
  fake.inject('UpdateService', { kind: 'throttle' }, { kind: 'throttle' });

  // WHEN
  await ecs.call('UpdateService', { cluster, service, desiredCount: 3 });

  // THEN
  expect(operations()).toEqual([
    'UpdateService:throttle',
    'UpdateService:throttle',
    'UpdateService:ok',
  ]);
  expect(backoffs).toEqual([100, 200]);
  expect(fake.services.get(service)?.desiredCount).toBe(3);
});

test('5xx: GIVEN ServerException on a read THEN it is asked again; on a write THEN it is UNKNOWN and not asked again', async () => {
  // GIVEN
  fake.inject('DescribeServices', { kind: 'server-error' });
  fake.inject('UpdateService', { kind: 'server-error', status: 503 });

  // WHEN / THEN
  await expect(
    ecs.call('DescribeServices', { cluster, services: [service] }),
  ).resolves.toMatchObject({
    services: [{ serviceArn: service }],
  });
  await expect(ecs.call('UpdateService', { cluster, service, desiredCount: 3 })).rejects.toThrow(
    new OutcomeUnknownError(
      'UpdateService',
      'UpdateService failed: ServerException: Internal failure',
    ),
  );
  expect(operations()).toEqual([
    'DescribeServices:server-error',
    'DescribeServices:ok',
    'UpdateService:server-error',
  ]);
});

test('lost response: GIVEN UpdateService landed and its answer was lost THEN it is UNKNOWN, sent once, and the change is there to read', async () => {
  // GIVEN
  proxy.inject({ match: ecsOperation('UpdateService'), action: { kind: 'lose-response' } });

  // WHEN
  const call = ecs.call('UpdateService', { cluster, service, desiredCount: 5 });

  // THEN
  await expect(call).rejects.toBeInstanceOf(OutcomeUnknownError);
  expect(fake.calls.filter((c) => c.operation === 'UpdateService')).toHaveLength(1);
  const read = await ecs.call('DescribeServices', { cluster, services: [service] });
  expect(read.services?.[0]?.desiredCount).toBe(5);
});

test('reset: GIVEN a read whose connection is reset THEN it is asked again and answers', async () => {
  // GIVEN
  proxy.inject({ match: ecsOperation('DescribeServices'), action: { kind: 'reset' } });

  // WHEN
  const answer = await ecs.call('DescribeServices', { cluster, services: [service] });

  // THEN
  expect(answer.services?.[0]?.serviceArn).toBe(service);
  expect(backoffs).toHaveLength(1);
});

test('black hole: GIVEN ECS never answers THEN a read times out on every attempt and throws a TimeoutError', async () => {
  // GIVEN
  proxy.setMode('black-hole');

  // WHEN / THEN
  await expect(
    ecs.call('DescribeServices', { cluster, services: [service] }),
  ).rejects.toMatchObject({
    name: 'TimeoutError',
  });
  expect(backoffs).toHaveLength(3);
});

test('slow write: GIVEN RegisterTaskDefinition answers after the timeout THEN it is UNKNOWN and not registered twice', async () => {
  // GIVEN
  fake.inject('RegisterTaskDefinition', { kind: 'slow', delayMs: SLOW_MS });

  // WHEN / THEN
  await expect(
    ecs.call('RegisterTaskDefinition', { family: 'api', containerDefinitions: [{ name: 'api' }] }),
  ).rejects.toMatchObject({ name: 'OutcomeUnknownError', operation: 'RegisterTaskDefinition' });
  expect([...fake.taskDefinitions.keys()]).toEqual([
    'arn:aws:ecs:us-east-1:123456789012:task-definition/api:1',
  ]);
});

test('unreadable 2xx: GIVEN a body cut short THEN a read is asked again, and a write is UNKNOWN', async () => {
  // GIVEN
  fake.inject('DescribeServices', { kind: 'malformed' });
  fake.inject('UpdateService', { kind: 'malformed' });

  // WHEN / THEN
  await expect(
    ecs.call('DescribeServices', { cluster, services: [service] }),
  ).resolves.toMatchObject({
    services: [{ serviceArn: service }],
  });
  await expect(
    ecs.call('UpdateService', { cluster, service, desiredCount: 2 }),
  ).rejects.toBeInstanceOf(OutcomeUnknownError);
  expect(operations()).toEqual([
    'DescribeServices:malformed',
    'DescribeServices:ok',
    'UpdateService:malformed',
  ]);
});

test("a client error is thrown at once with ECS's type, status and message", async () => {
  // WHEN
  const call = ecs.call('DescribeTaskDefinition', { taskDefinition: 'missing:1' });

  // THEN
  await expect(call).rejects.toThrow(
    new AwsApiError(
      'DescribeTaskDefinition',
      'ClientException',
      400,
      'Unable to describe task definition.',
    ),
  );
  await expect(call).rejects.toMatchObject({ type: 'ClientException', status: 400 });
  expect(backoffs).toEqual([]);
});

test('refused: GIVEN nothing listens WHEN a write is sent THEN it is asked again (it never left), and the refusal is thrown', async () => {
  // GIVEN
  const closed = client(`http://127.0.0.1:${await freePort()}`);

  // WHEN / THEN
  await expect(
    closed.call('UpdateService', { cluster, service, desiredCount: 1 }),
  ).rejects.toMatchObject({
    code: 'ECONNREFUSED',
  });
  expect(backoffs).toHaveLength(3);
});

test('lost response: GIVEN DeregisterTaskDefinition landed and its answer was lost THEN it is UNKNOWN and sent once', async () => {
  // GIVEN a registered revision, and the deregister's answer lost
  const registered = await ecs.call('RegisterTaskDefinition', {
    family: 'api',
    containerDefinitions: [{ name: 'api' }],
  });
  const arn = registered.taskDefinition?.taskDefinitionArn ?? '';
  proxy.inject({
    match: ecsOperation('DeregisterTaskDefinition'),
    action: { kind: 'lose-response' },
  });

  // WHEN / THEN
  await expect(
    ecs.call('DeregisterTaskDefinition', { taskDefinition: arn }),
  ).rejects.toBeInstanceOf(OutcomeUnknownError);
  expect(fake.calls.filter((c) => c.operation === 'DeregisterTaskDefinition')).toHaveLength(1);
  expect(fake.taskDefinitions.get(arn)?.status).toBe('INACTIVE');
});

test('not signed: GIVEN no credentials THEN the call throws the credentials error at once, and nothing is sent', async () => {
  // GIVEN
  const unsigned = new EcsApi({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    credentials: () => Promise.reject(new Error('no AWS credentials')),
    sleep: () => Promise.resolve(),
  });

  // WHEN / THEN
  await expect(
    unsigned.call('UpdateService', { cluster, service, desiredCount: 1 }),
  ).rejects.toMatchObject({ message: 'no AWS credentials', stage: 'sign' });
  expect(proxy.requestsSeen()).toBe(0);
});

test('what counts as never sent: failures to sign, resolve or connect, and nothing after the connection is up', () => {
  const coded = (code: string) => Object.assign(new Error(code), { code });
  expect(notSentStage(coded('ENOTFOUND'))).toBe('connect');
  expect(notSentStage(coded('EAI_AGAIN'))).toBe('connect');
  expect(notSentStage(coded('ECONNREFUSED'))).toBe('connect');
  expect(notSentStage(Object.assign(new Error('timed out'), { stage: 'connect' }))).toBe('connect');
  expect(notSentStage(coded('ECONNRESET'))).toBeUndefined();
  expect(notSentStage(Object.assign(new Error('late'), { name: 'TimeoutError' }))).toBeUndefined();
});

test('backoff: full jitter over a doubling ceiling, capped at 20 s', async () => {
  // GIVEN the largest jitter, and a service that always throttles
  const waits: number[] = [];
  const patient = new EcsApi(
    signedClientOptions(proxy.endpoint, waits, { maxAttempts: 10, random: () => 0.999_999 }),
  );
  fake.inject(
    'DescribeServices',
    ...Array.from({ length: 10 }, () => ({ kind: 'throttle' as const })),
  );

  // WHEN
  await expect(
    patient.call('DescribeServices', { cluster, services: [service] }),
  ).rejects.toMatchObject({ type: 'ThrottlingException' });

  // THEN
  expect(waits).toEqual([199, 399, 799, 1599, 3199, 6399, 12799, 19999, 19999]);
  expect(MAX_BACKOFF_MS).toBe(20_000);
});
