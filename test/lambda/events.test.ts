/** Every event schema message, asserted by its text. */
import { parseAzOutageEvent } from '../../lambda/az-outage/az-outage';
import { parseCacheOutageEvent } from '../../lambda/cache-outage/cache-outage';
import { parseCanaryEvent } from '../../lambda/canary/canary';
import { parseEmptyResponsesEvent } from '../../lambda/empty-responses/empty-responses';
import { parseLatencyEvent } from '../../lambda/latency/latency';
import { parseRegionOutageEvent } from '../../lambda/region-outage/region-outage';
import { parseRestoreEvent } from '../../lambda/restore/restore';
import { EventValidationError } from '../../lambda/shared/errors';
import { parseStopTasksEvent } from '../../lambda/stop-tasks/stop-tasks';

import { testEnv } from './helpers';

const env = testEnv();

/** The problems a parse reports. */
function problemsOf(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (error) {
    if (error instanceof EventValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected the event to be refused');
}

describe('the common fault fields', () => {
  test('defaults: a dry run (acting needs dryRun false), 15 minutes', () => {
    expect(parseStopTasksEvent({ experimentId: 'gd-2026-03-01.a' }, env)).toEqual({
      experimentId: 'gd-2026-03-01.a',
      dryRun: true,
      durationMinutes: 15,
      fisExperiment: false,
    });
  });

  test('an event without dryRun is a dry run in every fault function', () => {
    const base = { experimentId: 'a' };
    const parsed = [
      parseStopTasksEvent(base, env),
      parseAzOutageEvent({ ...base, availabilityZone: 'us-east-1a' }, env),
      parseEmptyResponsesEvent(base, env),
      parseLatencyEvent({ ...base, latencyMs: 800 }, env),
      parseCacheOutageEvent(base, env),
      parseRegionOutageEvent(base, env),
    ];
    expect(parsed.map((e) => e.dryRun)).toEqual([true, true, true, true, true, true]);
    expect(parseStopTasksEvent({ ...base, dryRun: false }, env).dryRun).toBe(false);
  });

  test('a short MAX_FAULT_DURATION_MINUTES shortens the default duration', () => {
    const event = parseStopTasksEvent(
      { experimentId: 'a' },
      testEnv({ maxFaultDurationMinutes: 5 }),
    );
    expect(event.durationMinutes).toBe(5);
  });

  test('the event must be a JSON object', () => {
    expect(problemsOf(() => parseStopTasksEvent([1], env))).toEqual([
      'event must be a JSON object, got a list',
    ]);
    expect(problemsOf(() => parseStopTasksEvent('stop', env))).toEqual([
      'event must be a JSON object, got "stop"',
    ]);
  });

  test('experimentId is required and constrained', () => {
    expect(problemsOf(() => parseStopTasksEvent({}, env))).toEqual([
      "experimentId is required: 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
    ]);
    expect(problemsOf(() => parseStopTasksEvent({ experimentId: '../x' }, env))).toEqual([
      `experimentId must be 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit, got "../x"`,
    ]);
  });

  test('another region is refused: a function acts only on its own region', () => {
    expect(
      problemsOf(() => parseStopTasksEvent({ experimentId: 'a', region: 'eu-west-1' }, env)),
    ).toEqual([
      'region must be one of us-east-1 (a chaos function acts only on its own region), got "eu-west-1"',
    ]);
  });

  test('durationMinutes is capped by MAX_FAULT_DURATION_MINUTES', () => {
    expect(
      problemsOf(() => parseStopTasksEvent({ experimentId: 'a', durationMinutes: 45 }, env)),
    ).toEqual([
      'durationMinutes must be an integer from 1 to 30 (minutes; MAX_FAULT_DURATION_MINUTES caps it), got 45',
    ]);
  });

  test('dryRun must be a boolean, not a string', () => {
    expect(
      problemsOf(() => parseStopTasksEvent({ experimentId: 'a', dryRun: 'yes' }, env)),
    ).toEqual(['dryRun must be true or false, got "yes"']);
  });

  test('an unknown field (a typo of dryRun) is refused, listing the allowed fields', () => {
    expect(problemsOf(() => parseStopTasksEvent({ experimentId: 'a', dryrun: true }, env))).toEqual(
      [
        'dryrun is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes, count, percent, availabilityZone, fisExperiment',
      ],
    );
  });

  test('every problem is reported at once', () => {
    const problems = problemsOf(() =>
      parseStopTasksEvent({ count: 0, percent: 101, colour: 'red' }, env),
    );
    expect(problems).toEqual([
      expect.stringContaining('experimentId is required'),
      'count must be an integer from 1 to 1000, got 0',
      'percent must be a number above 0 to 100, got 101',
      'colour is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes, count, percent, availabilityZone, fisExperiment',
    ]);
  });

  test('the error message joins the problems', () => {
    expect(() => parseStopTasksEvent({ experimentId: 'a', count: 1.5 }, env)).toThrow(
      'Invalid event: count must be an integer from 1 to 1000, got 1.5',
    );
  });
});

describe('targeting fields', () => {
  test('count and percent together are refused', () => {
    expect(
      problemsOf(() => parseStopTasksEvent({ experimentId: 'a', count: 1, percent: 10 }, env)),
    ).toEqual(['give count or percent, not both (got count 1 and percent 10)']);
  });

  test('an AZ name must look like one', () => {
    expect(
      problemsOf(() =>
        parseStopTasksEvent({ experimentId: 'a', availabilityZone: 'use1-az1' }, env),
      ),
    ).toEqual([
      'availabilityZone must be an availability zone name such as us-east-1a, got "use1-az1"',
    ]);
  });

  test('an AZ of another region is refused', () => {
    expect(
      problemsOf(() =>
        parseStopTasksEvent({ experimentId: 'a', availabilityZone: 'eu-west-1a' }, env),
      ),
    ).toEqual([
      'availabilityZone must be an AZ of us-east-1 (a chaos function acts only on its own region), got "eu-west-1a"',
    ]);
  });
});

describe('function-specific fields', () => {
  test('az-outage needs availabilityZone', () => {
    expect(problemsOf(() => parseAzOutageEvent({ experimentId: 'a' }, env))).toEqual([
      'availabilityZone is required: an availability zone name such as us-east-1a',
    ]);
  });

  test('az-outage takes no count', () => {
    expect(
      problemsOf(() =>
        parseAzOutageEvent({ experimentId: 'a', availabilityZone: 'us-east-1a', count: 1 }, env),
      ),
    ).toEqual([
      'count is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes, availabilityZone',
    ]);
  });

  test('latency needs latencyMs within 1-30000 ms', () => {
    expect(problemsOf(() => parseLatencyEvent({ experimentId: 'a' }, env))).toEqual([
      'latencyMs is required: an integer from 1 to 30000 (ms)',
    ]);
    expect(
      problemsOf(() => parseLatencyEvent({ experimentId: 'a', latencyMs: 60_000 }, env)),
    ).toEqual(['latencyMs must be an integer from 1 to 30000 (ms), got 60000']);
  });

  test('ratio must be above 0 and at most 1', () => {
    expect(
      problemsOf(() => parseEmptyResponsesEvent({ experimentId: 'a', ratio: 1.5 }, env)),
    ).toEqual(['ratio must be a number above 0 to 1, got 1.5']);
    expect(
      problemsOf(() => parseEmptyResponsesEvent({ experimentId: 'a', ratio: 0 }, env)),
    ).toEqual(['ratio must be a number above 0 to 1, got 0']);
  });

  test('cache-outage rebootNodes needs CACHE_CLUSTER_ID', () => {
    const noCache = testEnv({ cacheClusterId: undefined });
    expect(
      problemsOf(() => parseCacheOutageEvent({ experimentId: 'a', rebootNodes: true }, noCache)),
    ).toEqual([
      'rebootNodes needs the CACHE_CLUSTER_ID environment variable, which this function does not have',
    ]);
  });

  test('region-outage takes only the common fields', () => {
    expect(
      problemsOf(() => parseRegionOutageEvent({ experimentId: 'a', percent: 100 }, env)),
    ).toEqual([
      'percent is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes',
    ]);
  });

  test('restore takes an experimentId or sweep: true, not both or neither', () => {
    const message =
      'give either experimentId (restore that experiment) or sweep: true, not both or neither';
    expect(problemsOf(() => parseRestoreEvent({}, env))).toEqual([message]);
    expect(problemsOf(() => parseRestoreEvent({ experimentId: 'a', sweep: true }, env))).toEqual([
      message,
    ]);
    expect(problemsOf(() => parseRestoreEvent({ sweep: false }, env))).toEqual([
      'sweep must be true, got false',
    ]);
    expect(parseRestoreEvent({ sweep: true }, env)).toEqual({ sweep: true, dryRun: false });
  });
});

describe('canary event', () => {
  const canaryEnv = {
    region: 'us-east-1',
    healthToken: '"status":"ready"',
    timeoutMs: 1000,
    targets: [
      { name: 'us-east-1', url: 'http://127.0.0.1:1/ready' },
      { name: 'global', url: 'http://127.0.0.1:2/ready' },
    ],
  };

  test("EventBridge's scheduled event is accepted as is", () => {
    const scheduled = {
      version: '0',
      id: 'x',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      detail: {},
    };
    expect(parseCanaryEvent(scheduled, canaryEnv)).toEqual({});
  });

  test('targets must name configured targets', () => {
    expect(problemsOf(() => parseCanaryEvent({ targets: ['eu-west-1'] }, canaryEnv))).toEqual([
      'targets[0] must be one of us-east-1, global, got "eu-west-1"',
    ]);
  });
});

describe('hostile events (issue 14, item 10)', () => {
  test.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'a prototype property name such as %s is refused as an unknown field',
    (key) => {
      // GIVEN a key that `in` would find on Object.prototype (JSON.parse makes it an own property)
      const raw = JSON.parse(`{"experimentId": "exp-1", "${key}": 1}`) as unknown;

      // WHEN / THEN
      expect(problemsOf(() => parseStopTasksEvent(raw, env))).toEqual([
        `${key} is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes, count, percent, availabilityZone, fisExperiment`,
      ]);
    },
  );

  test('a deeply nested value is refused with a message, not a stack overflow', () => {
    // GIVEN a list nested 200 000 deep (JSON.stringify of it overflows the stack)
    let deep: unknown = [];
    for (let i = 0; i < 200_000; i++) deep = [deep];

    // WHEN / THEN
    expect(problemsOf(() => parseStopTasksEvent({ experimentId: deep }, env))).toEqual([
      'event must nest at most 8 levels of objects and lists; it nests deeper',
    ]);
  });

  test('a value nested within the limit is quoted in at most 60 characters', () => {
    const nested = { a: { b: { c: { d: 'x'.repeat(500) } } } };
    const [problem] = problemsOf(() => parseStopTasksEvent({ experimentId: nested }, env));
    expect(problem).toBe(
      `experimentId must be 1-64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit, got {"a":{"b":{"c":{"d":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...`,
    );
  });

  test('a 1 MB key name is cut and escaped in the message, not echoed whole', () => {
    // GIVEN a key of a million characters with a newline and a quote in it
    const key = `a"\n${'k'.repeat(1_000_000)}`;

    // WHEN
    const problems = problemsOf(() =>
      parseStopTasksEvent({ experimentId: 'exp-1', [key]: 1 }, env),
    );

    // THEN
    expect(problems).toEqual([
      `"a\\"\\n${'k'.repeat(54)}"... (1000003 characters) is not an allowed field; allowed: experimentId, dryRun, region, durationMinutes, count, percent, availabilityZone, fisExperiment`,
    ]);
  });
});
