import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';

import { AwsCaller, createSsmClient, DEFAULT_AWS_TIMEOUTS } from '../../service/src/aws/clients';
import { FaultPoller } from '../../service/src/faults/fault-poller';
import { SsmFaultSource } from '../../service/src/faults/fault-sources';
import { FaultState } from '../../service/src/faults/fault-state';
import { DependencyMetrics } from '../../service/src/metrics/emf';

/** In AWS the fault document is an SSM parameter (there is no local SSM server, so the client is mocked). */

const ssm = mockClient(SSMClient);
const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };

function poller(): { poller: FaultPoller; state: FaultState } {
  const metrics = new DependencyMetrics({ namespace: 'Test', region: 'eu-west-1' }, log);
  const client = createSsmClient('eu-west-1', DEFAULT_AWS_TIMEOUTS);
  const source = new SsmFaultSource(
    client,
    '/blueprint/faults',
    new AwsCaller('ssm', DEFAULT_AWS_TIMEOUTS, metrics, log),
  );
  const state = new FaultState(['task-1']);
  return { poller: new FaultPoller(source, state, 5000, log), state };
}

const document = JSON.stringify({
  faults: [
    {
      type: 'health-fail',
      targets: ['task-1'],
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    },
  ],
});

beforeEach(() => {
  ssm.reset();
  jest.clearAllMocks();
});

test('reads the fault document from the parameter', async () => {
  ssm
    .on(GetParameterCommand, { Name: '/blueprint/faults' })
    .resolves({ Parameter: { Value: document } });
  const { poller: subject, state } = poller();

  await subject.pollOnce();

  expect(ssm).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/blueprint/faults' });
  expect(state.active().map((fault) => fault.type)).toEqual(['health-fail']);
});

test('a missing parameter means no faults', async () => {
  ssm
    .on(GetParameterCommand)
    .rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
  const { poller: subject, state } = poller();
  state.replace([
    {
      type: 'latency',
      targets: ['*'],
      expiresAt: new Date(Date.now() + 60_000),
      params: { ratio: 1, latencyMs: 1, status: 503, bypassGuard: true },
    },
  ]);

  await subject.pollOnce();

  expect(state.active()).toEqual([]);
  expect(log.info).toHaveBeenCalledWith(
    { source: 'SSM parameter /blueprint/faults' },
    'no fault document; no faults',
  );
});

test('a failed read keeps the faults in force and is logged once, not on every poll', async () => {
  ssm.on(GetParameterCommand).resolvesOnce({ Parameter: { Value: document } });
  const { poller: subject, state } = poller();
  await subject.pollOnce();
  ssm.on(GetParameterCommand).rejects(
    Object.assign(new Error('denied'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    }),
  );

  await subject.pollOnce();
  await subject.pollOnce();

  expect(state.active().map((fault) => fault.type)).toEqual(['health-fail']);
  const readFailures = log.warn.mock.calls.filter(
    ([, msg]) => msg === 'cannot read the fault document; keeping the faults in force',
  );
  expect(readFailures).toHaveLength(1);
});
