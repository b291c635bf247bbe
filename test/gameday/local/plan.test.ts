import {
  planRun,
  QUICK_TIME_SCALE,
  SELF_EJECTION_WINDOW_SECONDS,
} from '../../../gameday/local/plan';
import { ALIAS_TTL_SECONDS } from '../../../lib/budgets';
import { DEFAULT_CONFIG } from '../../../lib/config';
import { SCENARIOS, settingsFromConfig } from '../../../lib/gameday/scenarios';
import { resolveConfig } from '../../../lib/load-config';

/** The local run's settings come from the blueprint config, and its budgets from the AWS formulas. */

const hc = DEFAULT_CONFIG.healthCheck;

describe('planRun', () => {
  test('gives HAProxy the ALB settings of the config, unscaled in a full run', () => {
    // GIVEN a config with its own health-check settings
    const config = resolveConfig({
      healthCheck: {
        albIntervalSeconds: 10,
        albTimeoutSeconds: 6,
        albHealthyThreshold: 4,
        albUnhealthyThreshold: 5,
      },
    });
    // WHEN
    const plan = planRun('task-loss', config, { quick: false, rate: 60 });
    // THEN
    expect(plan.balancer).toEqual({
      intervalMs: 10_000,
      timeoutMs: 6000,
      healthyThreshold: 4,
      unhealthyThreshold: 5,
    });
    expect(plan.budget.detectSeconds).toBe(10 * 5);
  });

  test('scales every duration in quick mode and derives the budget from the scaled values', () => {
    const plan = planRun('task-loss', DEFAULT_CONFIG, { quick: true, rate: 60 });

    expect(plan.balancer.intervalMs).toBe(hc.albIntervalSeconds * 1000 * QUICK_TIME_SCALE);
    expect(plan.balancer.timeoutMs).toBe(hc.albTimeoutSeconds * 1000 * QUICK_TIME_SCALE);
    expect(plan.budget.detectSeconds).toBe(
      hc.albIntervalSeconds * QUICK_TIME_SCALE * hc.albUnhealthyThreshold,
    );
    expect(plan.notes[0]).toContain('with every duration × 0.2 (quick mode)');
  });

  test('the report says what differs from AWS: no retries, and task-loss stops a task as StopTask does', () => {
    const plan = planRun('task-loss', DEFAULT_CONFIG, { quick: false, rate: 60 });

    const note = plan.notes.find((n) => n.startsWith('What differs from AWS'));
    expect(note).toContain('retries nothing (retries 0, no redispatch)');
    const taskLoss = plan.notes.find((n) => n.startsWith('task-loss does what StopTask does'));
    expect(taskLoss).toContain('the target is deregistered first');
    expect(taskLoss).toContain('SIGTERM 20 s later (the deregistration delay of 20 s)');
    expect(taskLoss).toContain('Not modelled');
  });

  test('scales the deregistration delay of task-loss with the other durations in quick mode', () => {
    const full = planRun('task-loss', DEFAULT_CONFIG, { quick: false, rate: 60 });
    const quick = planRun('task-loss', DEFAULT_CONFIG, { quick: true, rate: 60 });

    expect(full.deregistrationDelaySeconds).toBe(20);
    expect(quick.deregistrationDelaySeconds).toBe(20 * QUICK_TIME_SCALE);
    expect(quick.notes.join(' ')).toContain(
      `SIGTERM 4 s later (the deregistration delay of 20 s × ${QUICK_TIME_SCALE})`,
    );
  });

  test('az-outage says it is a crash: requests reach the lost task until the check ejects it', () => {
    const plan = planRun('az-outage', DEFAULT_CONFIG, { quick: false, rate: 60 });

    expect(plan.notes.join(' ')).toContain('az-outage kills processes outright (SIGKILL, a crash)');
  });

  test('holds the replacement of a lost task back until its slot must have been ejected', () => {
    const plan = planRun('task-loss', DEFAULT_CONFIG, { quick: true, rate: 60 });

    const ejectionSeconds = (plan.balancer.intervalMs * plan.balancer.unhealthyThreshold) / 1000;
    expect(plan.replacementDelaySeconds).toBeGreaterThan(ejectionSeconds);
    expect(plan.settings.taskStartSeconds).toBeGreaterThan(plan.replacementDelaySeconds);
    expect(plan.holdSeconds).toBeUndefined();
  });

  test('holds a zero-length fault until the self-ejection window has emptied after detection', () => {
    const plan = planRun('zero-length-responder', DEFAULT_CONFIG, { quick: true, rate: 60 });

    expect(plan.holdSeconds).toBeGreaterThanOrEqual(
      (plan.budget.detectSeconds ?? 0) + SELF_EJECTION_WINDOW_SECONDS,
    );
  });

  test('holds a zero-length fault long enough that an ejection at the edge of its budget still meets the success budget', () => {
    // GIVEN one target of three answers empty for the whole detection budget
    const plan = planRun('zero-length-responder', DEFAULT_CONFIG, { quick: false, rate: 60 });
    const detect = plan.budget.detectSeconds ?? 0;
    // THEN the bad share of the run stays within what the success rate allows
    const badShare = detect / 3 / (plan.baselineSeconds + (plan.holdSeconds ?? 0));
    expect(badShare).toBeLessThanOrEqual(1 - plan.budget.minSuccessRate);
  });

  test('uses the duration given on the command line as the hold', () => {
    expect(
      planRun('latency', DEFAULT_CONFIG, { quick: true, rate: 60, durationSeconds: 9 }).holdSeconds,
    ).toBe(9);
  });

  test('gives the router the Route 53 check and the alias TTL, scaled alike, and budgets with them', () => {
    const plan = planRun('region-evacuation', DEFAULT_CONFIG, { quick: true, rate: 60 });

    expect(plan.router).toMatchObject({
      intervalMs: 10_000 * QUICK_TIME_SCALE,
      failureThreshold: hc.route53FailureThreshold,
      searchBytes: 5120,
      token: hc.token,
      aliasTtlMs: ALIAS_TTL_SECONDS * 1000 * QUICK_TIME_SCALE,
    });
    expect(plan.budget.detectSeconds).toBeCloseTo(
      plan.settings.faultPollSeconds +
        10 * QUICK_TIME_SCALE * hc.route53FailureThreshold +
        ALIAS_TTL_SECONDS * QUICK_TIME_SCALE,
    );
    expect(plan.budget.derivation).toContain(`alias TTL ${ALIAS_TTL_SECONDS * QUICK_TIME_SCALE} s`);
  });
});

describe('the region-failover budget', () => {
  test('keeps the ALB alias TTL when no TTL is given, as the AWS game day uses it', () => {
    const settings = settingsFromConfig(hc, {
      taskStartSeconds: 90,
      faultPollSeconds: 5,
      selfEjectionSeconds: 10,
    });
    expect(SCENARIOS['region-evacuation'].budget(settings).detectSeconds).toBe(
      5 + 10 * hc.route53FailureThreshold + ALIAS_TTL_SECONDS,
    );
  });
});
