import { createServer, type Server, type ServerResponse } from 'node:http';

import type { RouterSettings } from '../../../gameday/local/plan';
import { GeoRouter, stringMatchCheck, type RouterEvent } from '../../../gameday/local/router';
import { SIMULATED_VIEWERS, viewerHeaders } from '../../../gameday/local/viewers';
import { freePort } from '../../support/memcached';

/**
 * The local router follows Route 53's documented HTTP(S)_STR_MATCH semantics: 2xx or 3xx within
 * the timeouts, the token in the first 5,120 bytes, a failure threshold both ways, and answers
 * kept for the alias TTL, one per viewer, chosen by the shared geoproximity rule.
 */

const TOKEN = '"status":"ready"';
const settings: RouterSettings = {
  intervalMs: 60_000,
  failureThreshold: 3,
  connectTimeoutMs: 500,
  responseTimeoutMs: 300,
  searchBytes: 5120,
  token: TOKEN,
  aliasTtlMs: 1000,
};

/** A load balancer stand-in whose answer to /health/ready the test sets. */
interface Endpoint {
  readonly url: string;
  answer: (response: ServerResponse) => void;
  stop(): Promise<void>;
}

async function endpoint(name: string): Promise<Endpoint> {
  const state: Pick<Endpoint, 'answer'> = {
    answer: (response) => response.writeHead(200).end(`{${TOKEN}}`),
  };
  const server: Server = createServer((request, response) => {
    if (request.url === '/health/ready') state.answer(response);
    else
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ from: name }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    set answer(answer: (response: ServerResponse) => void) {
      state.answer = answer;
    },
    get answer() {
      return state.answer;
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let near: Endpoint;
let far: Endpoint;

beforeAll(async () => {
  near = await endpoint('near');
  far = await endpoint('far');
});

afterAll(async () => {
  await near.stop();
  await far.stop();
});

describe('stringMatchCheck', () => {
  test('passes a 200 whose body holds the token', async () => {
    near.answer = (response) => response.writeHead(200).end(`{${TOKEN},"taskId":"a"}`);
    expect(await stringMatchCheck(near.url, settings)).toEqual({
      passed: true,
      detail: 'status 200, token found',
    });
  });

  test('passes a 3xx whose body holds the token, as Route 53 does', async () => {
    near.answer = (response) => response.writeHead(302, { location: '/' }).end(TOKEN);
    expect((await stringMatchCheck(near.url, settings)).passed).toBe(true);
  });

  test('fails a 503 even when its body holds the token', async () => {
    near.answer = (response) => response.writeHead(503).end(TOKEN);
    expect(await stringMatchCheck(near.url, settings)).toEqual({
      passed: false,
      detail: 'status 503',
    });
  });

  test('fails a fast empty 200', async () => {
    near.answer = (response) => response.writeHead(200).end();
    expect(await stringMatchCheck(near.url, settings)).toEqual({
      passed: false,
      detail: 'status 200, token not in the first 5120 bytes (0 bytes read)',
    });
  });

  test('finds a token that ends exactly at byte 5,120', async () => {
    near.answer = (response) =>
      response.writeHead(200).end(`${' '.repeat(5120 - TOKEN.length)}${TOKEN}`);
    expect((await stringMatchCheck(near.url, settings)).passed).toBe(true);
  });

  test('fails a token that starts inside the first 5,120 bytes but ends after them', async () => {
    near.answer = (response) =>
      response.writeHead(200).end(`${' '.repeat(5120 - TOKEN.length + 1)}${TOKEN}`);
    expect((await stringMatchCheck(near.url, settings)).passed).toBe(false);
  });

  test('fails an answer slower than the response timeout', async () => {
    const held: ServerResponse[] = [];
    near.answer = (response) => held.push(response);
    expect(await stringMatchCheck(near.url, settings)).toEqual({
      passed: false,
      detail: 'no answer within 300 ms',
    });
    for (const response of held) response.destroy();
  });

  test('fails when nothing listens', async () => {
    const nobody = `http://127.0.0.1:${await freePort()}`;
    expect(await stringMatchCheck(nobody, settings)).toEqual({
      passed: false,
      detail: 'ECONNREFUSED',
    });
  });
});

describe('GeoRouter', () => {
  let router: GeoRouter;
  let events: RouterEvent[];
  let url: string;

  beforeEach(async () => {
    near.answer = (response) => response.writeHead(200).end(TOKEN);
    far.answer = (response) => response.writeHead(200).end(TOKEN);
    // near-1 stands where eu-west-1 is (Dublin), far-1 where ap-northeast-1 is (Tokyo).
    router = new GeoRouter(
      [
        { name: 'near-1', url: near.url, latitude: 53.35, longitude: -6.26, bias: 0 },
        { name: 'far-1', url: far.url, latitude: 35.68, longitude: 139.69, bias: 0 },
      ],
      settings,
    );
    events = [];
    router.onEvent((event) => events.push(event));
    url = await router.start(await freePort());
  });

  afterEach(async () => {
    await router.stop();
  });

  test('takes a region out after the failure threshold, and back after as many passes', async () => {
    // GIVEN the near region starts failing its checks
    near.answer = (response) => response.writeHead(503).end('{"status":"unavailable"}');
    // WHEN it fails two checks THEN it is still healthy
    await router.checkAll();
    await router.checkAll();
    expect(router.isHealthy('near-1')).toBe(true);
    // WHEN it fails the third THEN it is unhealthy
    await router.checkAll();
    expect(router.isHealthy('near-1')).toBe(false);
    expect(events.filter((event) => event.kind === 'unhealthy')).toEqual([
      expect.objectContaining({ region: 'near-1', detail: '3 checks failed: status 503' }),
    ]);
    // WHEN it passes again, twice THEN it stays out; the third pass brings it back
    near.answer = (response) => response.writeHead(200).end(TOKEN);
    await router.checkAll();
    await router.checkAll();
    expect(router.isHealthy('near-1')).toBe(false);
    await router.checkAll();
    expect(router.isHealthy('near-1')).toBe(true);
  });

  test('keeps sending clients to the cached answer until the alias TTL has passed', async () => {
    const t0 = Date.now();
    expect(router.answer(t0).name).toBe('near-1');
    near.answer = (response) => response.writeHead(503).end();
    for (let i = 0; i < settings.failureThreshold; i += 1) await router.checkAll();

    expect(router.answer(t0 + settings.aliasTtlMs - 1).name).toBe('near-1');
    expect(router.answer(t0 + settings.aliasTtlMs).name).toBe('far-1');
  });

  test('answers with the nearest region when every region is unhealthy (Route 53 fails open)', async () => {
    near.answer = (response) => response.writeHead(503).end();
    far.answer = (response) => response.writeHead(503).end();
    for (let i = 0; i < settings.failureThreshold; i += 1) await router.checkAll();

    expect(router.answer(Date.now() + settings.aliasTtlMs).name).toBe('near-1');
    expect(events.at(-1)).toMatchObject({
      kind: 'answer',
      region: 'near-1',
      detail: 'every region is unhealthy: failing open to the first listed region',
    });
    const tokyo = { id: 'tokyo', location: { latitude: 35.68, longitude: 139.69 } };
    expect(router.answer(Date.now(), tokyo).name).toBe('far-1');
    expect(events.at(-1)).toMatchObject({
      kind: 'answer',
      region: 'far-1',
      viewer: 'tokyo',
      detail: 'every region is unhealthy: failing open to the nearest region',
    });
  });

  test('sends each simulated viewer where the shared rule does: Tokyo to far-1, London to near-1', async () => {
    const answeredFor = async (id: string) => {
      const viewer = SIMULATED_VIEWERS.find((candidate) => candidate.id === id);
      if (!viewer) throw new Error(`no simulated viewer ${id}`);
      const response = await fetch(`${url}/api/whoami`, { headers: viewerHeaders(viewer) });
      await response.arrayBuffer();
      return response.headers.get('x-region');
    };

    expect(await answeredFor('tokyo')).toBe('far-1');
    expect(await answeredFor('london')).toBe('near-1');
    expect(await answeredFor('unplaced')).toBe('near-1');
    expect(events.filter((event) => event.kind === 'answer')).toEqual([
      expect.objectContaining({
        region: 'far-1',
        viewer: 'tokyo',
        detail: 'nearest healthy region',
      }),
      expect.objectContaining({
        region: 'near-1',
        viewer: 'london',
        detail: 'nearest healthy region',
      }),
      expect.objectContaining({
        region: 'near-1',
        viewer: 'unplaced',
        detail: 'first listed healthy region (no viewer location)',
      }),
    ]);
  });

  test('keeps one answer per viewer: each moves when its own TTL has passed', async () => {
    // GIVEN London was answered at t0 and Lagos (also near-1's) half a TTL later
    const london = { id: 'london', location: { latitude: 51.51, longitude: -0.13 } };
    const lagos = { id: 'lagos', location: { latitude: 6.52, longitude: 3.38 } };
    const t0 = Date.now();
    expect(router.answer(t0, london).name).toBe('near-1');
    expect(router.answer(t0 + settings.aliasTtlMs / 2, lagos).name).toBe('near-1');

    // WHEN near-1 fails its checks
    near.answer = (response) => response.writeHead(503).end();
    for (let i = 0; i < settings.failureThreshold; i += 1) await router.checkAll();

    // THEN London moves once its TTL has passed, while Lagos keeps its answer until its own has
    const later = t0 + settings.aliasTtlMs;
    expect(router.answer(later, london).name).toBe('far-1');
    expect(router.answer(later, lagos).name).toBe('near-1');
    expect(router.answer(later + settings.aliasTtlMs / 2, lagos).name).toBe('far-1');
    expect(router.cachedAnswer('london')).toBe('far-1');
  });

  test('relays a request to the answered region and says which region answered', async () => {
    const response = await fetch(`${url}/api/whoami`);

    expect(response.headers.get('x-region')).toBe('near-1');
    expect(await response.json()).toEqual({ from: 'near' });
  });
});
