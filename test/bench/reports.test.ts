import { parseJestSummary } from '../../bench/devloop';
import { readGamedayReport } from '../../bench/gameday';

describe('parseJestSummary', () => {
  test("reads the counts of jest's Tests line", () => {
    // GIVEN the end of a jest run with failures and skips
    const output = [
      'Test Suites: 1 failed, 40 passed, 41 total',
      'Tests:       2 failed, 3 skipped, 195 passed, 200 total',
      'Time:        301.2 s',
    ].join('\n');
    // WHEN / THEN
    expect(parseJestSummary(output)).toEqual({ passed: 195, failed: 2, skipped: 3, total: 200 });
  });

  test('returns null when jest printed no summary', () => {
    expect(parseJestSummary('Error: Cannot find module')).toBeNull();
  });
});

describe('readGamedayReport', () => {
  const report = {
    quick: true,
    verdict: 'pass',
    plan: { timeScale: 0.2 },
    budget: { detectSeconds: 4, recoverSeconds: 6, minSuccessRate: 0.99, derivation: 'detect = …' },
    score: { timeToDetectSeconds: 2.5, timeToRecoverSeconds: null, successRate: 0.998 },
  };

  test('takes the measured times and their budgets from the report', () => {
    expect(readGamedayReport('gameday-report/task-loss-x.json', report)).toEqual({
      report: 'gameday-report/task-loss-x.json',
      quick: true,
      timeScale: 0.2,
      verdict: 'pass',
      timeToDetectSeconds: 2.5,
      timeToRecoverSeconds: null,
      detectBudgetSeconds: 4,
      recoverBudgetSeconds: 6,
      successRate: 0.998,
      minSuccessRate: 0.99,
      zeroLengthDelivered: null,
      gateRefused: null,
      derivation: 'detect = …',
    });
  });

  test('bad-deploy: reads the empty bodies users got and whether the deploy gate refused the revision', () => {
    const badDeploy = {
      ...report,
      requests: { zeroLength: 0 },
      deployGate: { verdict: { passed: false } },
    };

    expect(readGamedayReport('gameday-report/bad-deploy-x.json', badDeploy)).toMatchObject({
      zeroLengthDelivered: 0,
      gateRefused: true,
    });
  });

  test('names the file and the missing field when the report has another shape', () => {
    const withoutScore = { ...report, score: undefined };
    expect(() => readGamedayReport('r.json', withoutScore)).toThrow(
      'r.json has no score.timeToDetectSeconds: is it a local game-day report?',
    );
  });
});
