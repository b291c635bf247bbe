import { createServer, type Server } from 'node:http';

import { loadConfig } from '../../service/src/config';
import { faultTargetIds, resolveIdentity } from '../../service/src/identity';

const env = {
  MEMCACHED_ENDPOINTS: '127.0.0.1:11211',
  TABLE_NAME: 'items',
  FAULTS_FILE: '/tmp/faults.json',
  AWS_REGION: 'eu-west-1',
  TASK_ID: 'local-task',
  AVAILABILITY_ZONE: 'local-a',
};

/** A loopback stand-in for the ECS task metadata endpoint v4. */
async function metadataServer(
  handler: (path: string) => [number, unknown],
): Promise<{ server: Server; uri: string }> {
  const server = createServer((request, response) => {
    const [status, body] = handler(request.url ?? '');
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, uri: `http://127.0.0.1:${port}/v4/0123abcd` };
}

const silentLog = { warn: () => undefined };

test('locally the identity comes from TASK_ID and AVAILABILITY_ZONE', async () => {
  const identity = await resolveIdentity(loadConfig(env), silentLog);
  expect(identity).toEqual({
    region: 'eu-west-1',
    availabilityZone: 'local-a',
    taskId: 'local-task',
    version: '0.1.0',
  });
  expect(faultTargetIds(identity)).toEqual(['local-task']);
});

test('in ECS the task ARN and AZ come from the task metadata endpoint, and faults may target either id', async () => {
  const arn = 'arn:aws:ecs:eu-west-1:123456789012:task/blueprint/5f1c0e6a9b7d4c2e8a3b1d0f9e8c7b6a';
  const metadata = await metadataServer((path) =>
    path === '/v4/0123abcd/task'
      ? [200, { TaskARN: arn, AvailabilityZone: 'eu-west-1b' }]
      : [404, {}],
  );

  const identity = await resolveIdentity(
    loadConfig({ ...env, ECS_CONTAINER_METADATA_URI_V4: metadata.uri }),
    silentLog,
  );

  expect(identity).toMatchObject({
    taskArn: arn,
    taskId: '5f1c0e6a9b7d4c2e8a3b1d0f9e8c7b6a',
    availabilityZone: 'eu-west-1b',
  });
  expect(faultTargetIds(identity)).toEqual([arn, '5f1c0e6a9b7d4c2e8a3b1d0f9e8c7b6a']);
  metadata.server.close();
});

test('when the metadata endpoint fails, the task starts under its local id and says why', async () => {
  const metadata = await metadataServer(() => [500, { message: 'unavailable' }]);
  const warnings: Array<{ fields: object; msg: string }> = [];

  const identity = await resolveIdentity(
    loadConfig({ ...env, ECS_CONTAINER_METADATA_URI_V4: metadata.uri }),
    { warn: (fields, msg) => warnings.push({ fields, msg }) },
  );

  expect(identity.taskId).toBe('local-task');
  expect(warnings.map((warning) => warning.msg)).toEqual([
    'cannot read the ECS task metadata',
    'cannot read the ECS task metadata',
    'cannot read the ECS task metadata',
    'running without ECS task metadata; using the local task id',
  ]);
  expect(warnings[0].fields).toMatchObject({ attempt: 1, err: 'status 500' });
  metadata.server.close();
});
