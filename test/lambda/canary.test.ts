/** The canary against a real HTTP server on 127.0.0.1: status, body, token, timeouts, metrics. */
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Metrics } from '@aws-lambda-powertools/metrics';

import { CanarySink, metricsSink, parseCanaryEvent, runCanary } from '../../lambda/canary/canary';
import type { CanaryEnv } from '../../lambda/shared/env';
import { ProbeResult, probe } from '../../lambda/shared/probe';

import { fakeContext } from './helpers';

const TOKEN = '"status":"ready"';
const READY_BODY = `{${TOKEN},"region":"us-east-1"}`;
// Generous for a loopback answer on a loaded machine; the slow body below never ends, so the
// timeout case does not race it.
const TIMEOUT_MS = 2_000;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    switch (req.url) {
      case '/ready':
        res.writeHead(200, { 'content-type': 'application/json' }).end(READY_BODY);
        return;
      case '/empty':
        res.writeHead(200).end();
        return;
      case '/no-token':
        res.writeHead(200).end('{"status":"starting"}');
        return;
      case '/unavailable':
        res.writeHead(503).end(`{${TOKEN}}`);
        return;
      case '/slow-body': {
        // Headers at once, the body never: the timeout must cover the body as well.
        res.writeHead(200);
        res.write('{');
        return;
      }
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const check = (path: string) =>
  probe({ name: 't', url: `${base}${path}` }, { token: TOKEN, timeoutMs: TIMEOUT_MS });

describe('probe', () => {
  test('a 200 with the token passes and reports its bytes and latency', async () => {
    const result = await check('/ready');
    expect(result).toMatchObject({ ok: true, status: 200, bytes: Buffer.byteLength(READY_BODY) });
    expect(result.failure).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  test('an empty 200 fails: the zero-length answer a plain status check would pass', async () => {
    expect(await check('/empty')).toMatchObject({
      ok: false,
      status: 200,
      bytes: 0,
      failure: 'empty-body',
    });
  });

  test('a body without the token fails', async () => {
    expect(await check('/no-token')).toMatchObject({
      ok: false,
      status: 200,
      failure: 'token-missing',
    });
  });

  test('a 503 fails even with the token in its body', async () => {
    expect(await check('/unavailable')).toMatchObject({
      ok: false,
      status: 503,
      failure: 'status',
    });
  });

  test('a body slower than the timeout fails as a timeout', async () => {
    expect(await check('/slow-body')).toMatchObject({ ok: false, bytes: 0, failure: 'timeout' });
  });

  test('a refused connection fails as a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await probe(
      { name: 'gone', url: `http://127.0.0.1:${port}/ready` },
      { token: TOKEN, timeoutMs: TIMEOUT_MS },
    );
    expect(result).toMatchObject({ ok: false, failure: 'network' });
  });
});

describe('runCanary', () => {
  const env = (): CanaryEnv => ({
    region: 'us-east-1',
    healthToken: TOKEN,
    timeoutMs: TIMEOUT_MS,
    targets: [
      { name: 'us-east-1', url: `${base}/ready` },
      { name: 'eu-west-1', url: `${base}/empty` },
      { name: 'global', url: `${base}/ready` },
    ],
  });
  const recorder = (): CanarySink & { results: ProbeResult[] } => {
    const results: ProbeResult[] = [];
    return { results, record: (r) => results.push(r) };
  };

  test('checks every target, records each, and is not ok when one fails', async () => {
    const sink = recorder();
    const report = await runCanary(parseCanaryEvent({}, env()), { env: env(), sink });
    expect(report.ok).toBe(false);
    expect(sink.results.map((r) => [r.name, r.ok])).toEqual([
      ['us-east-1', true],
      ['eu-west-1', false],
      ['global', true],
    ]);
  });

  test('checks only the named targets when asked', async () => {
    const sink = recorder();
    const report = await runCanary(parseCanaryEvent({ targets: ['global'] }, env()), {
      env: env(),
      sink,
    });
    expect(report).toMatchObject({ ok: true, results: [{ name: 'global' }] });
  });
});

describe('metricsSink', () => {
  test('publishes CanarySuccess, CanaryBytes and CanaryLatency with a target dimension', () => {
    // GIVEN a real Metrics whose output is captured instead of printed
    const metrics = new Metrics({ namespace: 'ChaosTest', serviceName: 'canary' });
    const published: ReturnType<Metrics['serializeMetrics']>[] = [];
    jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      published.push(metrics.serializeMetrics());
      metrics.clearMetrics();
      metrics.clearDimensions();
      return metrics;
    });

    // WHEN
    const sink = metricsSink(metrics);
    sink.record({
      name: 'eu-west-1',
      url: 'x',
      ok: false,
      status: 200,
      bytes: 0,
      latencyMs: 12.6,
      failure: 'empty-body',
    });
    sink.record({ name: 'global', url: 'y', ok: true, status: 200, bytes: 37, latencyMs: 20 });

    // THEN
    expect(published).toHaveLength(2);
    const [first, second] = published;
    expect(first).toMatchObject({
      service: 'canary',
      target: 'eu-west-1',
      CanarySuccess: 0,
      CanaryBytes: 0,
      CanaryLatency: 13,
    });
    expect(second).toMatchObject({ target: 'global', CanarySuccess: 1, CanaryBytes: 37 });
    const directive = first?._aws.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('ChaosTest');
    expect(directive?.Dimensions).toEqual([['service', 'target']]);
    expect(directive?.Metrics).toEqual([
      { Name: 'CanarySuccess', Unit: 'Count' },
      { Name: 'CanaryBytes', Unit: 'Bytes' },
      { Name: 'CanaryLatency', Unit: 'Milliseconds' },
    ]);
  });
});

describe('the deployed canary handler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('reads its targets and token from the environment', async () => {
    // GIVEN
    process.env = {
      ...saved,
      CANARY_TARGETS: JSON.stringify([{ name: 'us-east-1', url: `${base}/ready` }]),
      HEALTH_TOKEN: TOKEN,
      POWERTOOLS_METRICS_NAMESPACE: 'ChaosTest',
      POWERTOOLS_SERVICE_NAME: 'canary',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const { handler } = await import('../../lambda/canary/index');
    const { metrics } = await import('../../lambda/shared/metrics');
    const publish = jest.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => {
      metrics.clearMetrics();
      metrics.clearDimensions();
      return metrics;
    });

    // WHEN
    const report = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events' },
      fakeContext(),
    );

    // THEN
    expect(report).toMatchObject({ ok: true, results: [{ name: 'us-east-1', ok: true }] });
    expect(publish).toHaveBeenCalledTimes(1);
  });

  test('an unexpected failure is rethrown without a stack trace (issue 14, item 10)', async () => {
    // GIVEN an environment whose targets parse, and a probe that fails in an unexpected way
    process.env = {
      ...saved,
      CANARY_TARGETS: JSON.stringify([{ name: 'us-east-1', url: `${base}/ready` }]),
      HEALTH_TOKEN: TOKEN,
      POWERTOOLS_METRICS_NAMESPACE: 'ChaosTest',
      POWERTOOLS_SERVICE_NAME: 'canary',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    const { handler } = await import('../../lambda/canary/index');
    const { metrics } = await import('../../lambda/shared/metrics');
    const boom = jest.spyOn(metrics, 'addDimension').mockImplementation(() => {
      throw new RangeError('boom');
    });

    // WHEN
    const thrown = await handler(
      { 'detail-type': 'Scheduled Event', source: 'aws.events' },
      fakeContext(),
    ).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

    // THEN
    expect(thrown?.message).toBe(
      'INTERNAL: the canary failed unexpectedly; see its logs for request c0ffee00-0000-4000-8000-000000000001',
    );
    expect(thrown?.stack).toBe('');
    boom.mockRestore();
  });
});
