import { Duration } from 'aws-cdk-lib';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import {
  Choice,
  Condition,
  Errors,
  Fail,
  IChainable,
  JsonPath,
  Parallel,
  Pass,
  Succeed,
  TaskInput,
  TaskStateBase,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

import type { InjectFunctionName } from '../../../lambda/gameday-shared/run';
import { SCENARIO_RUNS } from '../../../lambda/gameday-shared/run';
import type { ScenarioName } from '../../gameday/scenarios';
import { SCENARIO_NAMES } from '../../gameday/scenarios';

import { STATES } from './contract';

export interface GameDayDefinitionProps {
  /** The guarded chaos functions a scenario injects with, by name. */
  readonly injectFunctions: Readonly<Record<InjectFunctionName, LambdaFunction>>;
  readonly restoreFunction: LambdaFunction;
  readonly canaryFunction: LambdaFunction;
  readonly observeFunction: LambdaFunction;
  readonly reportFunction: LambdaFunction;
  /**
   * The service's target groups: both of them with canary deployments, which move each new
   * revision into the other group. Each poll reads every group (a Parallel state, one branch each).
   */
  readonly targetGroupArns: readonly string[];
  readonly pollInterval: Duration;
  /**
   * az-outage's mitigation: starts a zonal shift away from the AZ once the outage is observed, and
   * polls until it took (see lambda/zonal-shift). Restore ends the shift.
   * @default - no mitigation step: az-outage goes from observation straight to restore
   */
  readonly zonalShiftFunction?: LambdaFunction;
}

/** A Lambda task may run this much longer than the function's own timeout (queueing, cold start). */
const TASK_TIMEOUT_MARGIN = Duration.seconds(30);

/**
 * The run of one scenario:
 *
 *   Baseline targets -> Canary -> Preflight -> Steady state? -> Which scenario? -> Inject <scenario>
 *   -> Mark injected -> [Targets (fault) -> Observe -> Observed enough? -> Wait]*
 *   -> (az-outage with a zonal shift function: Start zonal shift -> [Observe zonal shift -> Shifted?
 *   -> Wait]*) -> Restore
 *   -> Mark restored -> [Targets (recovery) -> Verify recovery -> Recovered? -> Wait]* -> Report
 *   -> Outcome? -> Done | Refused | Stopped | Aborted | Restore failed
 *
 * An execution that ends any other way (stopped, timed out, or failed with an error no catch can
 * take, such as States.DataLimitExceeded or States.Runtime) is restored by an EventBridge rule the
 * orchestrator adds, which invokes restore with the execution's name: the experiment id.
 *
 * Every state after an inject that can fail catches every error into the Restore path, and every
 * state writes under its own key, so that Restore always finds the experiment id. Loops end when
 * the observe function says `done`, which it does by its own clock at the latest.
 */
export function gameDayDefinition(scope: Construct, props: GameDayDefinitionProps): IChainable {
  const lambda = (
    id: string,
    fn: LambdaFunction,
    payload: TaskInput | { readonly inputPath: string },
    resultPath: string,
  ): LambdaInvoke => {
    const timeout = fn.timeout ?? Duration.seconds(3);
    return new LambdaInvoke(scope, id, {
      lambdaFunction: fn,
      // A whole object from the state goes in by InputPath: Parameters cannot be a path.
      ...('inputPath' in payload ? { inputPath: payload.inputPath } : { payload }),
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: Timeout.duration(timeout.plus(TASK_TIMEOUT_MARGIN)),
    });
  };
  /**
   * One poll of the service's target health: DescribeTargetHealth of each target group, in
   * parallel. Its result (`$.targetHealth`) is one `{ ids, ports, states }` per group, in the order
   * of `targetGroupArns`; the observe function counts a target registered in both groups once.
   * A group whose read fails after its retries fails the poll (caught like any failed state),
   * never counted as a group without targets.
   */
  const targets = (id: string): Parallel => {
    const poll = new Parallel(scope, id, { resultPath: '$.targetHealth' });
    props.targetGroupArns.forEach((targetGroupArn, i) => {
      poll.branch(
        new CallAwsService(scope, `${id}, group ${i + 1}`, {
          service: 'elasticloadbalancingv2',
          action: 'describeTargetHealth',
          iamAction: 'elasticloadbalancing:DescribeTargetHealth',
          // DescribeTargetHealth has no resource-level permission.
          iamResources: ['*'],
          parameters: { TargetGroupArn: targetGroupArn },
          // Only each target's id, port and state: the whole answer (AZs, reasons, ...) of every
          // poll would grow the state toward the 256 KB limit, whose States.DataLimitExceeded no
          // catch can take.
          resultSelector: {
            'ids.$': '$.TargetHealthDescriptions[*].Target.Id',
            'ports.$': '$.TargetHealthDescriptions[*].Target.Port',
            'states.$': '$.TargetHealthDescriptions[*].TargetHealth.State',
          },
          taskTimeout: Timeout.duration(Duration.seconds(30)),
        }).addRetry({
          errors: [Errors.ALL],
          interval: Duration.seconds(2),
          maxAttempts: 3,
          backoffRate: 2,
        }),
      );
    });
    return poll;
  };
  const catchAll = (task: TaskStateBase | Parallel, handler: IChainable, resultPath: string) =>
    task.addCatch(handler, { errors: [Errors.ALL], resultPath });
  const mark = (id: string, resultPath: string) =>
    new Pass(scope, id, {
      parameters: { 'at.$': '$$.State.EnteredTime' },
      resultPath,
    });
  const observeInput = (action: 'observe' | 'verify') =>
    TaskInput.fromObject({ action, state: JsonPath.entirePayload });

  // The end: report, then the outcome decides how the execution ends.
  const report = lambda(
    STATES.report,
    props.reportFunction,
    TaskInput.fromObject({
      execution: JsonPath.stringAt('$$.Execution.Name'),
      startedAt: JsonPath.stringAt('$$.Execution.StartTime'),
      state: JsonPath.entirePayload,
    }),
    '$.report',
  );
  const fail = (id: string, error: string) =>
    new Fail(scope, id, { error, causePath: '$.report.summary' });
  report.addCatch(
    new Fail(scope, STATES.reportFailed, {
      error: 'GameDay.ReportFailed',
      cause: 'the report could not be built or stored; see the report function logs',
    }),
    { errors: [Errors.ALL], resultPath: '$.reportFailure' },
  );
  report.next(
    new Choice(scope, STATES.outcome)
      .when(
        Condition.or(
          Condition.stringEquals('$.report.outcome', 'completed'),
          Condition.stringEquals('$.report.outcome', 'dry-run'),
        ),
        new Succeed(scope, STATES.done, { outputPath: '$.report' }),
      )
      .when(
        Condition.stringEquals('$.report.outcome', 'refused'),
        fail(STATES.refused, 'GameDay.Refused'),
      )
      .when(
        Condition.stringEquals('$.report.outcome', 'stopped'),
        fail(STATES.stopped, 'GameDay.Stopped'),
      )
      .when(
        Condition.stringEquals('$.report.outcome', 'aborted'),
        fail(STATES.aborted, 'GameDay.Aborted'),
      )
      .when(
        Condition.stringEquals('$.report.outcome', 'restore-failed'),
        fail(STATES.restoreFailed, 'GameDay.RestoreFailed'),
      )
      .otherwise(fail(STATES.unexpected, 'GameDay.UnexpectedOutcome')),
  );

  // Verify recovery: poll until the observe function says the system is back (or gives up).
  const recoveryTargets = targets(STATES.recoveryTargets);
  const verify = lambda(
    STATES.verify,
    props.observeFunction,
    observeInput('verify'),
    '$.observation',
  );
  catchAll(recoveryTargets, report, '$.failure');
  catchAll(verify, report, '$.failure');
  recoveryTargets.next(verify);
  verify.next(
    new Choice(scope, STATES.recovered)
      .when(Condition.booleanEquals('$.observation.done', true), report)
      .otherwise(
        new Wait(scope, STATES.recoveryWait, {
          time: WaitTime.duration(props.pollInterval),
        }).next(recoveryTargets),
      ),
  );

  // Restore: always reached once an inject was attempted.
  const restore = lambda(
    STATES.restore,
    props.restoreFunction,
    TaskInput.fromObject({
      experimentId: JsonPath.stringAt('$.preflight.run.experimentId'),
      dryRun: JsonPath.objectAt('$.preflight.run.dryRun'),
    }),
    '$.restore',
  );
  restore.addRetry({
    errors: [Errors.ALL],
    interval: Duration.seconds(5),
    maxAttempts: 4,
    backoffRate: 2,
  });
  catchAll(restore, report, '$.restoreFailure');
  restore.next(mark(STATES.markRestored, '$.restoredAt')).next(recoveryTargets);

  // Observe the fault: poll until detected and held, recovered, stopped, or out of time.
  const faultTargets = targets(STATES.faultTargets);
  const observe = lambda(
    STATES.observe,
    props.observeFunction,
    observeInput('observe'),
    '$.observation',
  );
  catchAll(faultTargets, restore, '$.failure');
  catchAll(observe, restore, '$.failure');
  faultTargets.next(observe);
  const observedEnough = new Choice(scope, STATES.observedEnough);
  if (props.zonalShiftFunction) {
    observedEnough.when(
      Condition.and(
        Condition.booleanEquals('$.observation.done', true),
        Condition.stringEquals('$.preflight.run.scenario', 'az-outage'),
        Condition.booleanEquals('$.preflight.run.dryRun', false),
      ),
      zonalShiftStates(scope, props.zonalShiftFunction, props.pollInterval, lambda, restore),
    );
  }
  observe.next(
    observedEnough
      .when(Condition.booleanEquals('$.observation.done', true), restore)
      .otherwise(
        new Wait(scope, STATES.faultWait, { time: WaitTime.duration(props.pollInterval) }).next(
          faultTargets,
        ),
      ),
  );
  const markInjected = mark(STATES.markInjected, '$.injectedAt');
  markInjected.next(faultTargets);

  // Inject: one task per scenario, so that the graph shows which function each one invokes.
  const which = new Choice(scope, STATES.whichScenario);
  for (const name of SCENARIO_NAMES) {
    const inject = injectState(name, props, lambda);
    // Even a failed or timed-out inject may have acted before it failed: restore.
    catchAll(inject, restore, '$.failure');
    inject.next(markInjected);
    which.when(Condition.stringEquals('$.preflight.run.scenario', name), inject);
  }
  which.otherwise(report);

  // Preflight: the steady state, checked before anything changes.
  const baseline = targets(STATES.baselineTargets);
  const canary = lambda(STATES.canary, props.canaryFunction, TaskInput.fromObject({}), '$.canary');
  const preflight = lambda(
    STATES.preflight,
    props.observeFunction,
    TaskInput.fromObject({
      action: 'preflight',
      input: JsonPath.objectAt('$$.Execution.Input'),
      // The restore on an aborted, timed-out or failed execution names the experiment by it.
      execution: JsonPath.stringAt('$$.Execution.Name'),
      state: JsonPath.entirePayload,
    }),
    '$.preflight',
  );
  catchAll(baseline, report, '$.failure');
  catchAll(canary, preflight, '$.canaryFailure');
  catchAll(preflight, report, '$.failure');
  baseline.next(canary);
  canary.next(preflight);
  preflight.next(
    new Choice(scope, STATES.steadyState)
      .when(Condition.booleanEquals('$.preflight.ok', true), which)
      .otherwise(report),
  );
  return baseline;
}

function injectState(
  name: ScenarioName,
  props: GameDayDefinitionProps,
  lambda: (
    id: string,
    fn: LambdaFunction,
    payload: TaskInput | { readonly inputPath: string },
    resultPath: string,
  ) => LambdaInvoke,
): LambdaInvoke {
  const fn = props.injectFunctions[SCENARIO_RUNS[name].inject];
  return lambda(
    `${STATES.injectPrefix}${name}`,
    fn,
    { inputPath: '$.preflight.run.injectEvent' },
    '$.inject',
  );
}

/**
 * az-outage's mitigation: Start zonal shift -> [Observe zonal shift -> Shifted? -> Wait]* ->
 * Restore. Any failure (a refusal, ARC unreachable) goes to Restore, which ends the shift.
 */
function zonalShiftStates(
  scope: Construct,
  fn: LambdaFunction,
  pollInterval: Duration,
  lambda: (
    id: string,
    fn: LambdaFunction,
    payload: TaskInput | { readonly inputPath: string },
    resultPath: string,
  ) => LambdaInvoke,
  restore: IChainable,
): IChainable {
  const start = lambda(
    STATES.startZonalShift,
    fn,
    TaskInput.fromObject({
      action: 'start',
      experimentId: JsonPath.stringAt('$.preflight.run.experimentId'),
      availabilityZone: JsonPath.stringAt('$.preflight.run.injectEvent.availabilityZone'),
    }),
    '$.mitigation',
  );
  const observe = lambda(
    STATES.observeZonalShift,
    fn,
    TaskInput.fromObject({ action: 'observe', shift: JsonPath.objectAt('$.mitigation') }),
    '$.mitigation',
  );
  for (const task of [start, observe]) {
    task.addCatch(restore, { errors: [Errors.ALL], resultPath: '$.mitigationFailure' });
  }
  start.next(observe);
  observe.next(
    new Choice(scope, STATES.shifted)
      .when(Condition.booleanEquals('$.mitigation.done', true), restore)
      .otherwise(
        new Wait(scope, STATES.shiftWait, { time: WaitTime.duration(pollInterval) }).next(observe),
      ),
  );
  return start;
}
