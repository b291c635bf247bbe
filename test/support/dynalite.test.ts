import { startDynaliteProcess, type DynaliteServer } from './dynalite';

describe('startDynaliteProcess', () => {
  const started: DynaliteServer[] = [];
  afterAll(async () => {
    await Promise.all(started.map((server) => server.stop()));
  });

  test('runs two servers side by side, each on its own free port, never dynalite’s default 4567', async () => {
    // WHEN two are started at once, as two local game days on one machine would
    const [first, second] = await Promise.all([startDynaliteProcess(), startDynaliteProcess()]);
    started.push(first, second);
    // THEN both listen, on different ports
    expect(first.port).not.toBe(second.port);
    expect([first.port, second.port]).not.toContain(4567);
    for (const server of [first, second]) {
      const answer = await fetch(server.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
          'x-amz-date': '20260101T000000Z',
        },
        body: '{}',
      });
      expect(answer.status).toBe(200);
    }
  });
});
