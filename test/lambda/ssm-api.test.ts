/**
 * The fault document's reads and writes (lambda/shared/fault-document.ts) through the chaos
 * functions' small SSM client (lambda/shared/ssm-api.ts), against a fake SSM that speaks the JSON
 * 1.1 protocol (test/support/fake-ssm.ts), with the loopback fault proxy between them.
 */
import { AwsApiError } from '../../lambda/shared/aws-json-api';
import {
  EMPTY_DOCUMENT,
  readFaultDocument,
  writeFaultDocument,
  type FaultDocument,
} from '../../lambda/shared/fault-document';
import { SsmApi } from '../../lambda/shared/ssm-api';
import { FakeSsm } from '../support/fake-ssm';
import { startFaultProxy, type FaultProxy, type RequestMatcher } from '../support/fault-proxy';
import { signedClientOptions } from '../support/signed-client-options';

const NAME = '/blueprint/us-east-1/faults';
const DOC: FaultDocument = {
  faults: [
    {
      type: 'latency',
      targets: ['0123456789abcdef0123456789abcdef'],
      expiresAt: '2026-12-01T12:30:00.000Z',
      params: { latencyMs: 800 },
    },
  ],
};

let fake: FakeSsm;
let proxy: FaultProxy;
let ssm: SsmApi;
const backoffs: number[] = [];

const ssmOperation =
  (operation: string): RequestMatcher =>
  (request) =>
    request.includes(`AmazonSSM.${operation}`);

beforeEach(async () => {
  backoffs.length = 0;
  fake = await FakeSsm.start();
  proxy = await startFaultProxy({ targetPort: Number(new URL(fake.endpoint).port) });
  ssm = new SsmApi(signedClientOptions(proxy.endpoint, backoffs));
});
afterEach(async () => {
  await proxy.stop();
  await fake.close();
});

test('GIVEN no parameter yet WHEN the document is read THEN it is empty, from one signed JSON 1.1 request', async () => {
  // WHEN
  const doc = await readFaultDocument(ssm, NAME);

  // THEN
  expect(doc).toEqual(EMPTY_DOCUMENT);
  expect(fake.calls).toEqual([{ operation: 'GetParameter', input: { Name: NAME }, answer: 'ok' }]);
  const signed = (request: Buffer) =>
    /Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ssm\/aws4_request/.test(request.toString('latin1'));
  expect(proxy.requestsSeen(signed)).toBe(1);
});

test('GIVEN a document written WHEN read back THEN it is the same document, as an overwritten String', async () => {
  // GIVEN
  fake.parameters.set(NAME, { value: '{"faults":[]}', version: 1 });

  // WHEN
  await writeFaultDocument(ssm, NAME, DOC);

  // THEN
  expect(await readFaultDocument(ssm, NAME)).toEqual(DOC);
  expect(fake.callsOf('PutParameter')[0]?.input).toMatchObject({
    Name: NAME,
    Type: 'String',
    Overwrite: true,
  });
  expect(fake.parameters.get(NAME)?.version).toBe(2);
});

test('throttled, then a 500: GIVEN each once on a write THEN it is asked again with backoff and written once more', async () => {
  // GIVEN
  fake.inject('PutParameter', { kind: 'throttle' }, { kind: 'server-error' });

  // WHEN
  await writeFaultDocument(ssm, NAME, DOC);

  // THEN
  expect(fake.callsOf('PutParameter').map((c) => c.answer)).toEqual([
    'throttle',
    'server-error',
    'ok',
  ]);
  expect(backoffs).toHaveLength(2);
  expect(JSON.parse(fake.parameters.get(NAME)?.value ?? '') as unknown).toEqual(DOC);
});

test('lost response: GIVEN a PutParameter landed and its answer was lost THEN it is asked again, and the same text is there', async () => {
  // GIVEN
  proxy.inject({ match: ssmOperation('PutParameter'), action: { kind: 'lose-response' } });

  // WHEN
  await writeFaultDocument(ssm, NAME, DOC);

  // THEN a whole-document overwrite under the lease: asking again wrote the same text
  expect(fake.callsOf('PutParameter')).toHaveLength(2);
  expect(await readFaultDocument(ssm, NAME)).toEqual(DOC);
});

test('reset: GIVEN a read whose connection is reset THEN it is asked again and answers', async () => {
  // GIVEN
  fake.parameters.set(NAME, { value: JSON.stringify(DOC), version: 3 });
  proxy.inject({ match: ssmOperation('GetParameter'), action: { kind: 'reset' } });

  // WHEN / THEN
  expect(await readFaultDocument(ssm, NAME)).toEqual(DOC);
  expect(backoffs).toHaveLength(1);
});

test('black hole: GIVEN SSM never answers THEN the read times out on every attempt and fails, never reading as empty', async () => {
  // GIVEN
  proxy.setMode('black-hole');

  // WHEN / THEN
  await expect(readFaultDocument(ssm, NAME)).rejects.toMatchObject({ name: 'TimeoutError' });
  expect(backoffs).toHaveLength(3);
});

test('GIVEN access is denied THEN the read fails at once with the type SSM sent: only ParameterNotFound reads as empty', async () => {
  // GIVEN
  fake.inject('GetParameter', { kind: 'access-denied' });

  // WHEN
  const failure = await readFaultDocument(ssm, NAME).catch((e: unknown) => e);

  // THEN
  expect(failure).toBeInstanceOf(AwsApiError);
  expect(failure).toMatchObject({ type: 'AccessDeniedException', status: 400 });
  expect(fake.callsOf('GetParameter')).toHaveLength(1);
});

test('GIVEN 500s on every attempt THEN the read gives up after the attempts with the type SSM sent', async () => {
  // GIVEN
  fake.inject(
    'GetParameter',
    ...Array.from({ length: 4 }, () => ({ kind: 'server-error' as const })),
  );

  // WHEN
  const failure = await readFaultDocument(ssm, NAME).catch((e: unknown) => e);

  // THEN
  expect(failure).toMatchObject({ type: 'InternalServerError', status: 500 });
  expect(fake.callsOf('GetParameter')).toHaveLength(4);
});
