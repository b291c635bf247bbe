import { Writable } from 'node:stream';

import pino from 'pino';

import { RequestLogger, requestLoggerFactory } from '../../service/src/request-logger';

import { api, eventually, startHarness, type Harness } from './harness';

/** A pino logger at `level` whose lines are collected, and a count of the children it built. */
function capturingLogger(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level }, stream);
  // A spy calls through with the logger it is called on, so grandchildren stay grandchildren.
  const spy = jest.spyOn(logger, 'child');
  const built = {
    get count() {
      return spy.mock.calls.length;
    },
  };
  return { logger, lines, built };
}

describe('RequestLogger (a request child logger built at its first line)', () => {
  test('builds no child for a request that writes nothing, or only lines below the level', () => {
    // GIVEN a logger at info
    const { logger, lines, built } = capturingLogger('info');
    // WHEN a request logger is made and writes only a debug line
    const requestLog = new RequestLogger(logger, { reqId: 'r-1' });
    requestLog.debug({ step: 1 }, 'not written');
    // THEN no child was built and nothing was written
    expect(built.count).toBe(0);
    expect(lines).toEqual([]);
    expect(requestLog.level).toBe('info');
    expect(requestLog.isLevelEnabled('debug')).toBe(false);
  });

  test('its first line builds the child once, and every line carries the request id', () => {
    // GIVEN a request logger at info
    const { logger, lines, built } = capturingLogger('info');
    const requestLog = new RequestLogger(logger, { reqId: 'r-2' });
    // WHEN it writes an object line, a message line and a formatted line
    requestLog.warn({ status: 503 }, 'first');
    requestLog.info('second');
    requestLog.error('third %s', 'formatted');
    // THEN one child was built, and each line has the id, its fields and its level
    expect(built.count).toBe(1);
    expect(lines.map(({ reqId, msg, level }) => ({ reqId, msg, level }))).toEqual([
      { reqId: 'r-2', msg: 'first', level: 40 },
      { reqId: 'r-2', msg: 'second', level: 30 },
      { reqId: 'r-2', msg: 'third formatted', level: 50 },
    ]);
    expect(lines[0].status).toBe(503);
  });

  test('a child of it and a level change act on the built child', () => {
    const { logger, lines } = capturingLogger('info');
    const requestLog = new RequestLogger(logger, { reqId: 'r-3' });
    requestLog.level = 'debug';
    requestLog.debug('now written');
    requestLog.child({ step: 'fill' }).info('from a grandchild');
    expect(lines.map(({ reqId, msg, step }) => ({ reqId, msg, step }))).toEqual([
      { reqId: 'r-3', msg: 'now written', step: undefined },
      { reqId: 'r-3', msg: 'from a grandchild', step: 'fill' },
    ]);
    // The parent's level is untouched.
    expect(logger.level).toBe('info');
  });

  test('the factory builds pino’s own child at once when a route sets its own level', () => {
    const { logger, built } = capturingLogger('info');
    const routeLog = requestLoggerFactory(logger, { reqId: 'r-4' }, { level: 'warn' });
    expect(routeLog).not.toBeInstanceOf(RequestLogger);
    expect(built.count).toBe(1);
    expect(routeLog.level).toBe('warn');
    expect(requestLoggerFactory(logger, { reqId: 'r-5' }, {})).toBeInstanceOf(RequestLogger);
  });
});

describe('the service’s request logs', () => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ env: { ACCESS_LOG_SAMPLE_EVERY: '1' } });
  });

  afterAll(async () => {
    await harness.stop();
  });

  test('a request’s line carries the id the response names in X-Request-Id', async () => {
    // GIVEN / WHEN a GET of a missing item (always logged) with the caller's own request id
    const response = await api(harness.baseUrl, '/api/items/absent-item', {
      headers: { 'x-request-id': 'caller-id-12345' },
    });
    // THEN the response and its access log line name the same id
    expect(response.status).toBe(404);
    expect(response.headers.get('x-request-id')).toBe('caller-id-12345');
    // (the line is written once the response has finished, which may be just after the client read it)
    const lines = await eventually(
      () =>
        Promise.resolve(
          harness.logs.find(
            (line) => line.msg === 'request completed' && line.url === '/api/items/absent-item',
          ),
        ),
      (found) => found.length > 0,
    );
    expect(lines).toHaveLength(1);
    expect(lines[0].reqId).toBe('caller-id-12345');
  });
});
