import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

import {
  cachegrindInstructions,
  instructionsPerRequest,
  middleRequests,
  parseInstructionsArgs,
  raiseLimitsForValgrind,
  steadyInstructions,
  VALGRIND_LIMITS,
} from '../../bench/instructions-count';

describe('instructions per request (bench/instructions-count.ts)', () => {
  test('is the difference between a long and a short run over the requests between them', () => {
    // GIVEN start-up and warm-up of 9e9 instructions in both runs, and 140k per measured request
    const short = { requests: 5000, instructions: 9e9 + 5000 * 140_000 };
    const long = { requests: 15_000, instructions: 9e9 + 15_000 * 140_000 };
    // THEN start-up and warm-up drop out
    expect(instructionsPerRequest(short, long)).toBe(140_000);
  });

  test('refuses a long run that measured no more requests than the short one', () => {
    expect(() =>
      instructionsPerRequest({ requests: 10, instructions: 5 }, { requests: 10, instructions: 9 }),
    ).toThrow('the long run must measure more requests than the short one, got 10 and 10');
  });

  test('is steady when the two halves of the measured span agree', () => {
    // GIVEN 140k instructions per request throughout
    const run = (requests: number) => ({ requests, instructions: 9e9 + requests * 140_000 });
    // WHEN counted from a short, a middle and a long run
    const count = steadyInstructions(run(5000), run(10_000), run(15_000));
    // THEN both halves say 140k, and nothing drifted
    expect(count).toEqual({
      perRequest: 140_000,
      firstHalf: 140_000,
      secondHalf: 140_000,
      drift: 0,
      steady: true,
    });
  });

  test('is not steady when a compile of 200M instructions lands in the measured span', () => {
    // GIVEN 140k per request, and V8 compiling for 2e8 instructions between request 12,000 and 13,000
    const run = (requests: number) => ({
      requests,
      instructions: 9e9 + requests * 140_000 + (requests > 12_000 ? 2e8 : 0),
    });
    // WHEN counted from a short, a middle and a long run
    const count = steadyInstructions(run(5000), run(10_000), run(15_000));
    // THEN the compile shows as 20k per request in the second half, and the count is flagged
    expect(count.firstHalf).toBe(140_000);
    expect(count.secondHalf).toBe(180_000);
    expect(count.perRequest).toBe(160_000);
    expect(count.drift).toBe(0.25);
    expect(count.steady).toBe(false);
  });

  test("reads cachegrind's total of instructions", () => {
    const output =
      'desc: I1 cache: ...\ncmd: node -e x\nevents: Ir\nfl=x\n1 2\nsummary: 1875710154\n';
    expect(cachegrindInstructions(output)).toBe(1_875_710_154);
    expect(() => cachegrindInstructions('events: Ir\n')).toThrow(
      'no "summary: <instructions>" line in the cachegrind output',
    );
  });
});

describe('the service bundle under valgrind', () => {
  test('has each limit raised, and nothing else changed', () => {
    const bundle =
      'a; this.timeoutMs = options.operationTimeoutMs ?? 100; b; this.maxDelayMs = limits.maxEventLoopDelayMs ?? 500; c';
    const patched = raiseLimitsForValgrind(bundle);
    expect(patched).toBe(
      'a; this.timeoutMs = options.operationTimeoutMs ?? 600000; b; this.maxDelayMs = limits.maxEventLoopDelayMs ?? 600000; c',
    );
  });

  test.each([
    ['missing', 'operationTimeoutMs ?? 100;'],
    [
      'there twice',
      'maxEventLoopDelayMs ?? 500; operationTimeoutMs ?? 100; operationTimeoutMs ?? 100;',
    ],
  ])('fails naming the text when it is %s', (_name, bundle) => {
    expect(() => raiseLimitsForValgrind(bundle)).toThrow(/must contain '.+' exactly once/);
  });

  test('finds both limits in the service as it is bundled today (so a changed default fails here)', () => {
    // GIVEN the production bundle, built as the image builds it
    const directory = mkdtempSync(path.join(tmpdir(), 'instructions-test-'));
    try {
      execFileSync('sh', ['service/bundle.sh', directory], {
        cwd: path.resolve(__dirname, '..', '..'),
      });
      const bundle = readFileSync(path.join(directory, 'main.js'), 'utf8');
      // WHEN the limits are raised THEN each replacement is in, and each original is gone
      const patched = raiseLimitsForValgrind(bundle);
      for (const [from, to] of VALGRIND_LIMITS) {
        expect(patched).toContain(to);
        expect(patched).not.toContain(from);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('npm run bench:instructions arguments', () => {
  const ALL = ['service-cache-hit', 'fair-limit', 'framework-floor'];

  test('defaults: 20,000 warm-up requests, then 5,000, 10,000 and 15,000 measured on 10 connections, every server', () => {
    const options = parseInstructionsArgs([]);
    expect(options).toEqual({
      warm: 20_000,
      short: 5000,
      long: 15_000,
      connections: 10,
      only: ALL,
    });
    expect(middleRequests(options)).toBe(10_000);
    expect(parseInstructionsArgs(['--long', '40000', '--warm', '100'])).toEqual({
      warm: 100,
      short: 5000,
      long: 40_000,
      connections: 10,
      only: ALL,
    });
  });

  test('counts one build of the service alone', () => {
    expect(
      parseInstructionsArgs([
        '--only',
        'service-cache-hit',
        '--bundle',
        '/tmp/without-hook',
        '--connections',
        '1',
      ]),
    ).toEqual({
      warm: 20_000,
      short: 5000,
      long: 15_000,
      connections: 1,
      only: ['service-cache-hit'],
      bundle: '/tmp/without-hook',
    });
  });

  test.each([
    [
      ['--fast'],
      "unknown argument '--fast'; allowed: --warm N --short N --long N --connections N --only <targets> --bundle <dir>",
    ],
    [
      ['--only', 'service'],
      "--only takes a comma-separated list of service-cache-hit, fair-limit, framework-floor, got 'service'",
    ],
    [['--bundle'], "--bundle needs a directory built by sh service/bundle.sh, got 'undefined'"],
    [['--connections', '0'], "--connections needs a whole number of at least 1, got '0'"],
    [['--short', '14999'], '--long (15000) must be at least 2 more than --short (14999)'],
    [['--warm'], "--warm needs a whole number of at least 1, got 'undefined'"],
    [['--short', '1e3'], "--short needs a whole number of at least 1, got '1e3'"],
    [['--short', '0'], "--short needs a whole number of at least 1, got '0'"],
    [['--short', '20000'], '--long (15000) must be at least 2 more than --short (20000)'],
  ])('rejects %j: %s', (args, message) => {
    expect(() => parseInstructionsArgs(args)).toThrow(message);
  });
});
