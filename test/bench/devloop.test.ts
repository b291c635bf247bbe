import { failedTests, parseJestSummary } from '../../bench/devloop';

const OUTPUT = [
  'PASS test/lambda/ecs-api.test.ts (5.1 s)',
  'FAIL test/lambda/zonal-shift.test.ts (6.2 s)',
  '  ● endExperimentShifts › cancels ours and verifies by a fresh list that none is active',
  '',
  '    expect(received).toEqual(expected)',
  'Tests:       1 failed, 20 passed, 21 total',
].join('\n');

test('GIVEN a jest run with a failure THEN the failed file and the failed test are named', () => {
  expect(failedTests(OUTPUT)).toEqual([
    'test/lambda/zonal-shift.test.ts',
    'endExperimentShifts › cancels ours and verifies by a fresh list that none is active',
  ]);
  expect(parseJestSummary(OUTPUT)).toEqual({ passed: 20, failed: 1, skipped: 0, total: 21 });
});

test('GIVEN a green run THEN no failure is named', () => {
  expect(failedTests('PASS test/a.test.ts\nTests:       3 passed, 3 total')).toEqual([]);
});
