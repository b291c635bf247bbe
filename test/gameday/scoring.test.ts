import { DEFAULT_CONFIG } from '../../lib/config';
import { SCENARIOS, settingsFromConfig } from '../../lib/gameday/scenarios';
import { renderScore, scoreRun } from '../../lib/gameday/scoring';

const settings = settingsFromConfig(DEFAULT_CONFIG.healthCheck, {
  taskStartSeconds: 90,
  faultPollSeconds: 5,
  selfEjectionSeconds: 10,
});
const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (seconds: number) => t0 + seconds * 1000;

describe('scenario budgets from the default settings', () => {
  test('eject a lost task in 15 s and expect its replacement within 100 s', () => {
    expect(SCENARIOS['task-loss'].budget(settings)).toMatchObject({
      detectSeconds: 15, // 5 s × 3
      recoverSeconds: 100, // 90 s + 5 s × 2
    });
  });

  test('eject a zero-length responder after the poll, the self-ejection window and the ALB checks', () => {
    expect(SCENARIOS['zero-length-responder'].budget(settings).detectSeconds).toBe(30); // 5 + 10 + 15
  });

  test('move a region in interval × threshold plus the alias TTL', () => {
    expect(SCENARIOS['region-evacuation'].budget(settings).detectSeconds).toBe(95); // 5 + 10 × 3 + 60
  });

  test('expect no ejection from a cache outage', () => {
    expect(SCENARIOS['cache-outage'].budget(settings).detectSeconds).toBeUndefined();
  });
});

describe('scoreRun on recorded timelines', () => {
  const budget = SCENARIOS['task-loss'].budget(settings);

  test('passes a run that detected and recovered within budget', () => {
    // GIVEN a task-loss run: ejected after 12.4 s, replaced after 71 s, 996 of 1000 requests fine
    const timeline = { injectedAt: at(0), detectedAt: at(12.4), recoveredAt: at(71) };
    // WHEN
    const score = scoreRun(timeline, budget, { total: 1000, succeeded: 996 });
    // THEN
    expect(score).toMatchObject({
      timeToDetectSeconds: 12.4,
      timeToRecoverSeconds: 71,
      successRate: 0.996,
      verdict: 'pass',
    });
  });

  test('fails a run whose detection took longer than the budget, and says which check failed', () => {
    const timeline = { injectedAt: at(0), detectedAt: at(21.7), recoveredAt: at(80) };
    const score = scoreRun(timeline, budget, { total: 1000, succeeded: 999 });
    expect(score.verdict).toBe('fail');
    expect(score.checks.find((c) => c.name === 'time to detect')).toEqual({
      name: 'time to detect',
      measured: 21.7,
      budget: 15,
      unit: 's',
      verdict: 'fail',
    });
    expect(score.checks.find((c) => c.name === 'time to recover')?.verdict).toBe('pass');
  });

  test('fails a run that never detected the fault', () => {
    const score = scoreRun({ injectedAt: at(0), recoveredAt: at(60) }, budget, {
      total: 10,
      succeeded: 10,
    });
    expect(score.timeToDetectSeconds).toBeNull();
    expect(score.verdict).toBe('fail');
    expect(renderScore(score)).toContain('FAIL  time to detect: never (budget ≤ 15 s)');
  });

  test('counts recovery from the restore when the fault was held until then', () => {
    // GIVEN a zero-length run restored at 40 s, healthy again 14 s later
    const zeroLength = SCENARIOS['zero-length-responder'].budget(settings);
    const timeline = {
      injectedAt: at(0),
      detectedAt: at(26),
      restoredAt: at(40),
      recoveredAt: at(54),
    };
    // WHEN
    const score = scoreRun(timeline, zeroLength, { total: 500, succeeded: 490 });
    // THEN
    expect(score.timeToRecoverSeconds).toBe(14);
    expect(score.checks.map((c) => c.verdict)).toEqual(['pass', 'pass', 'pass']);
  });

  test('fails a run whose success rate fell below the budget', () => {
    const timeline = { injectedAt: at(0), detectedAt: at(10), recoveredAt: at(50) };
    const score = scoreRun(timeline, budget, { total: 1000, succeeded: 950 });
    expect(score.checks.find((c) => c.name === 'success rate')).toMatchObject({
      measured: 95,
      budget: 99,
      verdict: 'fail',
    });
  });

  test('fails a run in which no request was made', () => {
    const timeline = { injectedAt: at(0), detectedAt: at(10), recoveredAt: at(50) };
    expect(scoreRun(timeline, budget, { total: 0, succeeded: 0 }).verdict).toBe('fail');
  });
});
