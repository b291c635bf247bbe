import { connect } from 'node:net';

import { api, startHarness, TEST_TUNING, type ApiResponse, type Harness } from './harness';

let harness: Harness;

beforeAll(async () => {
  harness = await startHarness({
    memcachedNodes: 1,
    // Keep the test limits (no shedding for the test's own load on a shared event loop).
    tuning: { limits: { ...TEST_TUNING.limits, bodyLimitBytes: 16 * 1024 } },
  });
});

afterAll(async () => {
  await harness.stop();
});

const json = { 'content-type': 'application/json' };
const item = { name: 'Lamp', price: 10 };

interface BadInput {
  readonly name: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array<ArrayBuffer>;
  readonly status: number;
  readonly error: string;
  /** Text the error message must contain (the field it names). */
  readonly names?: string;
}

/** A JSON body with raw bytes (not valid UTF-8) spliced in. */
function withBytes(before: string, bytes: number[], after: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(
    Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]),
  );
}

/** Each case: what a client sent, and the 4xx and error code it must get. */
const corpus: BadInput[] = [
  {
    name: 'malformed JSON',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name": "Lamp",',
    status: 400,
    error: 'malformed_json',
  },
  {
    name: 'JSON with a trailing comma',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,}',
    status: 400,
    error: 'malformed_json',
  },
  {
    name: 'an empty JSON body',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '',
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'a JSON array instead of an object',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '[1,2]',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'JSON null',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: 'null',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'text/plain content type',
    path: '/api/items/a',
    method: 'PUT',
    headers: { 'content-type': 'text/plain' },
    body: JSON.stringify(item),
    status: 415,
    error: 'unsupported_media_type',
  },
  {
    name: 'XML content type',
    path: '/api/items/a',
    method: 'PUT',
    headers: { 'content-type': 'application/xml' },
    body: '<item/>',
    status: 415,
    error: 'unsupported_media_type',
  },
  {
    name: 'a body over the 16 KiB limit',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ ...item, name: 'x'.repeat(20_000) }),
    status: 413,
    error: 'payload_too_large',
  },
  {
    name: 'a missing name',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"price":1}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'an empty name',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"","price":1}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a name of 201 characters',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ name: 'n'.repeat(201), price: 1 }),
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a name with a control character',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ name: 'bad\u0007bell', price: 1 }),
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a numeric name',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":42,"price":1}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a negative price',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":-0.01}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a price given as a string (no coercion)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":"5"}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a price that overflows to Infinity',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1e309}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a price of 1e-200 (below the smallest number DynamoDB stores)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1e-200}',
    status: 400,
    error: 'validation_failed',
    names: 'body/price',
  },
  {
    name: 'a price of 9e-131 (just below the 1e-130 DynamoDB allows)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":9e-131}',
    status: 400,
    error: 'validation_failed',
    names: 'body/price',
  },
  {
    name: 'a price of 5e-324 (the smallest JavaScript number)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":5e-324}',
    status: 400,
    error: 'validation_failed',
    names: 'body/price',
  },
  {
    name: 'invalid UTF-8 in the name',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: withBytes('{"name":"Lamp', [0xff, 0xfe], '","price":1}'),
    status: 400,
    error: 'invalid_utf8',
    names: 'body/name',
  },
  {
    name: 'a truncated UTF-8 sequence in a tag',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: withBytes('{"name":"Lamp","price":1,"tags":["ok","caf', [0xc3], '"]}'),
    status: 400,
    error: 'invalid_utf8',
    names: 'body/tags/1',
  },
  {
    name: 'an overlong UTF-8 encoding of "/" outside any string',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: withBytes('{"name":"Lamp","price":1}', [0xc0, 0xaf], ''),
    status: 400,
    error: 'invalid_utf8',
    names: 'UTF-8',
  },
  {
    name: 'a lone surrogate escape in the name (no UTF-8 can hold it)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp\\ud800","price":1}',
    status: 400,
    error: 'invalid_unicode',
    names: 'body/name',
  },
  {
    name: 'an unknown field',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,"colour":"red"}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'tags that are not an array',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,"tags":"sale"}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'duplicate tags',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,"tags":["a","a"]}',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: '21 tags',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: JSON.stringify({ ...item, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }),
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a __proto__ key (prototype poisoning)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,"__proto__":{"admin":true}}',
    status: 400,
    error: 'malformed_json',
  },
  {
    name: 'a constructor.prototype key (prototype poisoning)',
    path: '/api/items/a',
    method: 'PUT',
    headers: json,
    body: '{"name":"Lamp","price":1,"constructor":{"prototype":{"admin":true}}}',
    status: 400,
    error: 'malformed_json',
  },
  { name: 'an id with a dot', path: '/api/items/bad.id', status: 400, error: 'validation_failed' },
  {
    name: 'an id with an encoded slash (path traversal)',
    path: '/api/items/..%2F..%2Fetc%2Fpasswd',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'an id of 65 characters',
    path: `/api/items/${'i'.repeat(65)}`,
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a PUT to a reserved id',
    path: '/api/items/_health-sentinel',
    method: 'PUT',
    headers: json,
    body: JSON.stringify(item),
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'an unquoted If-Match',
    path: '/api/items/a',
    method: 'PUT',
    headers: { ...json, 'if-match': 'abc' },
    body: JSON.stringify(item),
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'a weak If-Match',
    path: '/api/items/a',
    method: 'PUT',
    headers: { ...json, 'if-match': 'W/"abc"' },
    body: JSON.stringify(item),
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'an Idempotency-Key of 129 characters',
    path: '/api/items/a',
    method: 'PUT',
    headers: { ...json, 'idempotency-key': 'k'.repeat(129) },
    body: JSON.stringify(item),
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'an Idempotency-Key with a space',
    path: '/api/items/a',
    method: 'PUT',
    headers: { ...json, 'idempotency-key': 'two words' },
    body: JSON.stringify(item),
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a page limit of 0',
    path: '/api/items?limit=0',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a page limit of 101',
    path: '/api/items?limit=101',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a page limit that is not a number',
    path: '/api/items?limit=ten',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a page limit given twice',
    path: '/api/items?limit=1&limit=2',
    status: 400,
    error: 'validation_failed',
  },
  {
    name: 'a cursor this service did not issue',
    path: '/api/items?cursor=bm90LWEta2V5',
    status: 400,
    error: 'bad_request',
  },
  {
    name: 'a cursor with invalid characters',
    path: '/api/items?cursor=%7B%22pk%22%7D',
    status: 400,
    error: 'validation_failed',
  },
  { name: 'an unknown route', path: '/api/nothing-here', status: 404, error: 'not_found' },
  {
    name: 'an unsupported method',
    path: '/api/items/a',
    method: 'DELETE',
    status: 404,
    error: 'not_found',
  },
  {
    name: 'an id longer than the router allows',
    path: `/api/items/${'x'.repeat(5000)}`,
    status: 414,
    error: 'uri_too_long',
  },
  {
    name: 'a broken percent-encoding in the path',
    path: '/api/items/%E0%A4%A',
    status: 400,
    error: 'bad_url',
  },
];

describe('bad input gets a 4xx with a JSON error body, never a 5xx or an empty body', () => {
  test(`the corpus has at least 15 cases (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
  });

  test.each(corpus)('$name → $status $error', async (input) => {
    // WHEN the bad request is sent over HTTP
    const response: ApiResponse = await api(harness.baseUrl, input.path, {
      method: input.method ?? 'GET',
      headers: input.headers,
      body: input.body,
    });

    // THEN it gets the expected 4xx with a JSON body naming the error
    expect({ status: response.status, text: response.text.slice(0, 300) }).toMatchObject({
      status: input.status,
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = response.json<{ error: string; message: string; requestId: string }>();
    expect(body.error).toBe(input.error);
    expect(body.message.length).toBeGreaterThan(0);
    if (input.names) expect(body.message).toContain(input.names);
    expect(body.requestId).toBe(response.headers.get('x-request-id'));
    expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+/);
  });

  test('a request that is not valid HTTP gets a 400 with a JSON body', async () => {
    // GIVEN a raw request with a header line that has no colon
    const { port } = new URL(harness.baseUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write('GET /api/whoami HTTP/1.1\r\nHost: x\r\nthis is not a header\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
    });

    // THEN the answer is a 400 with a JSON body
    const [head, body] = raw.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(body)).toMatchObject({ error: 'Bad Request', statusCode: 400 });
  });

  test('not one 5xx from the whole corpus, sent again in one go', async () => {
    // WHEN every case is sent again, concurrently
    const statuses = await Promise.all(
      corpus.map(async (input) => {
        const response = await api(harness.baseUrl, input.path, {
          method: input.method ?? 'GET',
          headers: input.headers,
          body: input.body,
        });
        return { name: input.name, status: response.status };
      }),
    );

    // THEN none got a 5xx, and nothing was stored for the bad writes
    expect(statuses.filter((entry) => entry.status >= 500)).toEqual([]);
    expect((await api(harness.baseUrl, '/api/items/a')).status).toBe(404);
  });

  test('after the whole corpus the service is still live and serving', async () => {
    expect((await api(harness.baseUrl, '/health/live')).status).toBe(200);
    expect((await api(harness.baseUrl, '/health/ready')).status).toBe(200);
  });
});
