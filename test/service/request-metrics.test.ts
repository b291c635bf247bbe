import fc from 'fast-check';

import {
  REQUEST_METRIC_DEFINITIONS,
  RequestMetrics,
  type RequestSample,
} from '../../service/src/metrics/request-metrics';

type Line = Record<string, unknown> & { msg: string };

/** A logger that keeps what it is given; `failNext` makes the next write throw. */
function captureLog() {
  const lines: Line[] = [];
  let failures = 0;
  return {
    lines,
    failNext(count = 1) {
      failures += count;
    },
    /** The stream works again. */
    recover() {
      failures = 0;
    },
    info(fields: Record<string, unknown>, msg?: string) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('write after end');
      }
      lines.push({ ...fields, msg: msg ?? '' });
    },
  };
}

const context = { namespace: 'Blueprint/Service', region: 'eu-west-1' };

function sample(overrides: Partial<RequestSample> = {}): RequestSample {
  return {
    latencyMs: 1,
    responseBytes: 100,
    statusCode: 200,
    zeroLength: false,
    malformed: false,
    guarded: false,
    shed: false,
    cache: undefined,
    ...overrides,
  };
}

const COUNT_FIELDS = [
  'ZeroLengthResponses',
  'MalformedResponses',
  'GuardedResponses',
  'ShedRequests',
  'CacheHits',
  'CacheMisses',
  'Status4xx',
  'Status5xx',
] as const;

describe('RequestMetrics', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('one flush writes one EMF line with the sums of every count over the interval', () => {
    // GIVEN a mix of requests: hits, misses, a 404, a guarded 500, a zero-length 200, a shed 503
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.record(sample({ cache: 'hit', responseBytes: 128 }));
    metrics.record(sample({ cache: 'hit', responseBytes: 128 }));
    metrics.record(sample({ cache: 'miss', responseBytes: 128 }));
    metrics.record(sample({ statusCode: 404, responseBytes: 60 }));
    metrics.record(
      sample({ statusCode: 500, malformed: true, guarded: true, cache: 'hit', responseBytes: 40 }),
    );
    metrics.record(sample({ zeroLength: true, responseBytes: 0 }));
    metrics.record(sample({ statusCode: 503, shed: true, responseBytes: 80 }));

    // WHEN the metrics are flushed
    metrics.flush(1_700_000_000_000);

    // THEN one line carries them, under the Region dimension the alarms read
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      msg: 'request metrics',
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'Blueprint/Service',
            Dimensions: [['Region']],
            Metrics: REQUEST_METRIC_DEFINITIONS,
          },
        ],
      },
      Region: 'eu-west-1',
      Requests: 7,
      ResponseBytes: 564,
      CacheHits: 3,
      CacheMisses: 1,
      Status4xx: 1,
      Status5xx: 2,
      MalformedResponses: 1,
      GuardedResponses: 1,
      ZeroLengthResponses: 1,
      ShedRequests: 1,
    });
    // AND every metric the directive names is a number on the line (CloudWatch drops the rest)
    for (const definition of REQUEST_METRIC_DEFINITIONS) {
      expect(typeof log.lines[0][definition.Name]).toBe('number');
    }
  });

  test('the alarms and the dashboard find the metrics they read, with the units they expect', () => {
    const byName = new Map(REQUEST_METRIC_DEFINITIONS.map((d) => [d.Name, d.Unit]));
    expect(byName.get('ZeroLengthResponses')).toBe('Count');
    expect(byName.get('CacheHits')).toBe('Count');
    expect(byName.get('CacheMisses')).toBe('Count');
    expect(byName.get('RequestLatency')).toBe('Milliseconds');
  });

  test('latency: the mean, the maximum and percentiles within one 2 % bucket of the exact ones', () => {
    // GIVEN 1000 requests taking 1, 2, ..., 1000 ms, recorded out of order
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    const latencies = Array.from({ length: 1000 }, (_, index) => index + 1);
    for (const latencyMs of [...latencies].reverse()) metrics.record(sample({ latencyMs }));

    // WHEN flushed
    metrics.flush();

    // THEN the exact percentile (nearest rank) is at most 2 % below what is written, never above it
    const line = log.lines[0];
    expect(line.RequestLatency).toBe(500.5);
    expect(line.RequestLatencyMax).toBe(1000);
    for (const [field, exact] of [
      ['RequestLatencyP50', 500],
      ['RequestLatencyP90', 900],
      ['RequestLatencyP99', 990],
    ] as const) {
      const written = line[field] as number;
      expect(written).toBeGreaterThanOrEqual(exact);
      expect(written).toBeLessThanOrEqual(exact * 1.02);
    }
  });

  test('a percentile is never written above the slowest request, and sub-bucket latencies stay exact', () => {
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.record(sample({ latencyMs: 0.004 }));
    metrics.record(sample({ latencyMs: 0.37 }));
    metrics.flush();
    expect(log.lines[0]).toMatchObject({
      RequestLatencyP50: 0.01,
      RequestLatencyP99: 0.37,
      RequestLatencyMax: 0.37,
    });
  });

  test('an interval without requests writes nothing, and a flush starts the next interval at zero', () => {
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.flush();
    expect(log.lines).toEqual([]);

    metrics.record(sample({ cache: 'hit', latencyMs: 50 }));
    metrics.flush();
    metrics.record(sample({ cache: 'miss', latencyMs: 2 }));
    metrics.flush();

    expect(log.lines).toHaveLength(2);
    expect(log.lines[1]).toMatchObject({
      Requests: 1,
      CacheHits: 0,
      CacheMisses: 1,
      RequestLatencyMax: 2,
    });
  });

  test('the timer writes a line every interval while requests come in', () => {
    // GIVEN metrics started with a 10 s interval
    jest.useFakeTimers();
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.start(10_000);
    metrics.record(sample());

    // WHEN 10 s pass, then 10 s more with two requests
    jest.advanceTimersByTime(10_000);
    metrics.record(sample());
    metrics.record(sample());
    jest.advanceTimersByTime(10_000);

    // THEN there is one line per interval
    expect(log.lines.map((line) => line.Requests)).toEqual([1, 2]);
    metrics.stop();
  });

  test('stop writes what is left, and a request that finishes after stop (during shutdown) is written at once', () => {
    jest.useFakeTimers();
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.start(10_000);
    metrics.record(sample());
    metrics.record(sample());

    // WHEN the service stops before the interval is up
    metrics.stop();

    // THEN the two requests are written
    expect(log.lines.map((line) => line.Requests)).toEqual([2]);

    // WHEN a last request finishes after the stop
    metrics.record(sample({ statusCode: 503 }));

    // THEN it is written without waiting for a timer that no longer runs
    expect(log.lines.map((line) => line.Requests)).toEqual([2, 1]);
    expect(metrics.pending()).toBe(0);
    jest.advanceTimersByTime(60_000);
    expect(log.lines).toHaveLength(2);
  });

  test('fault: the log write fails during a flush (the stream is closing): the counts are kept and the next flush writes them', () => {
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.record(sample({ cache: 'hit' }));
    log.failNext();

    // WHEN the flush cannot write, then more requests come and the next flush can
    expect(() => metrics.flush()).not.toThrow();
    metrics.record(sample({ cache: 'hit' }));
    metrics.flush();

    // THEN nothing was lost
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ Requests: 2, CacheHits: 2 });
  });

  test('fault: the write fails at the shutdown flush: the request that finishes next carries the counts out', () => {
    const log = captureLog();
    const metrics = new RequestMetrics(context, log);
    metrics.record(sample());
    log.failNext();
    metrics.stop();
    expect(log.lines).toEqual([]);

    metrics.record(sample());

    expect(log.lines.map((line) => line.Requests)).toEqual([2]);
  });

  test('no request is lost or counted twice, whatever the order of requests, flushes and failed writes', () => {
    const step = fc.oneof(
      fc.record({
        kind: fc.constant('record' as const),
        statusCode: fc.constantFrom(200, 404, 500, 503),
        cache: fc.constantFrom('hit' as const, 'miss' as const, undefined),
        zeroLength: fc.boolean(),
        latencyMs: fc.double({ min: 0, max: 60_000, noNaN: true }),
      }),
      fc.constant({ kind: 'flush' as const }),
      fc.constant({ kind: 'fail-next-write' as const }),
      fc.constant({ kind: 'stop' as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const log = captureLog();
        const metrics = new RequestMetrics(context, log);
        const expected = { Requests: 0, CacheHits: 0, CacheMisses: 0, Status5xx: 0 };
        for (const s of steps) {
          if (s.kind === 'record') {
            metrics.record(sample(s));
            expected.Requests += 1;
            if (s.cache === 'hit') expected.CacheHits += 1;
            if (s.cache === 'miss') expected.CacheMisses += 1;
            if (s.statusCode >= 500) expected.Status5xx += 1;
          } else if (s.kind === 'flush') {
            metrics.flush();
          } else if (s.kind === 'fail-next-write') {
            log.failNext();
          } else {
            metrics.stop();
          }
        }
        // The stream works again: a last flush writes whatever is left.
        log.recover();
        metrics.flush();
        const sum = (field: string) =>
          log.lines.reduce((total, line) => total + (line[field] as number), 0);
        expect({
          Requests: sum('Requests'),
          CacheHits: sum('CacheHits'),
          CacheMisses: sum('CacheMisses'),
          Status5xx: sum('Status5xx'),
        }).toEqual(expected);
        for (const line of log.lines) {
          expect(line.Requests).toBeGreaterThan(0);
          expect(line.RequestLatencyP99 as number).toBeLessThanOrEqual(
            line.RequestLatencyMax as number,
          );
          for (const field of COUNT_FIELDS) expect(line[field]).toBeGreaterThanOrEqual(0);
        }
      }),
      { verbose: 1 },
    );
  });

  test('a flush interval that is not a whole number of milliseconds is refused, naming it', () => {
    const metrics = new RequestMetrics(context, captureLog());
    expect(() => metrics.start(0)).toThrow(
      'the request metrics flush interval must be a whole number of milliseconds of at least 1, got 0',
    );
  });
});
