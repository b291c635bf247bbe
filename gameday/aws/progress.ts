/**
 * Live progress from the execution history: the phase with the elapsed time, what the preflight
 * found, what was injected, and after every poll the targets and the canary's success rate.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

import type { GameDayState, Observation } from '../../lambda/gameday-shared/run';
import { Phase, STATES, phaseOfState } from '../../lib/constructs/gameday/contract';

const PHASE_TEXT: Readonly<Record<Phase, string>> = {
  preflight: 'checking the steady state: alarm, canary, lease, targets',
  inject: 'injecting the fault',
  observe: 'watching target health, alarms and the canary until the fault is detected',
  restore: 'restoring',
  verify: 'waiting for full recovery',
  report: 'scoring and storing the report',
};

const MOMENTS = [
  ['detectedAt', 'detected'],
  ['trafficMovedAt', 'traffic moved'],
  ['recoveredAt', 'recovered'],
] as const;

const percent = (ok: number, total: number) =>
  total === 0 ? 'n/a' : `${((100 * ok) / total).toFixed(1)} %`;

function parseOutput(event: HistoryEvent): GameDayState | undefined {
  const output = event.stateExitedEventDetails?.output;
  if (!output) return undefined;
  try {
    const value: unknown = JSON.parse(output);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

export class ProgressPrinter {
  private phase: Phase | undefined;
  private readonly printedMoments = new Set<string>();

  constructor(
    private readonly print: (line: string) => void,
    /** When the execution started, ms since the epoch. */
    private readonly startedAt: number,
  ) {}

  private line(event: HistoryEvent, phase: Phase | undefined, text: string): void {
    const elapsed = ((event.timestamp?.getTime() ?? this.startedAt) - this.startedAt) / 1000;
    const clock = `[${elapsed.toFixed(1).padStart(6)} s]`;
    this.print(`${clock} ${(phase ?? '').padEnd(9)} ${text}`);
  }

  onEvent(event: HistoryEvent): void {
    const entered = event.stateEnteredEventDetails?.name;
    if (entered !== undefined) {
      const phase = phaseOfState(entered);
      if (phase && phase !== this.phase) {
        this.phase = phase;
        this.line(event, phase, PHASE_TEXT[phase]);
      }
      return;
    }
    const exited = event.stateExitedEventDetails?.name;
    if (exited === undefined) return;
    const state = parseOutput(event);
    if (!state) return;
    if (exited === STATES.preflight) this.preflight(event, state);
    else if (exited.startsWith(STATES.injectPrefix)) this.inject(event, state);
    else if (exited === STATES.observe || exited === STATES.verify) this.observation(event, state);
    else if (exited === STATES.restore) this.restore(event, state);
  }

  private preflight(event: HistoryEvent, state: GameDayState): void {
    const result = state.preflight;
    if (!result) return;
    if (result.ok) {
      this.line(
        event,
        'preflight',
        `steady state holds: ${result.baseline?.healthy ?? '?'} healthy targets, alarm OK, canary green, no lease`,
      );
      return;
    }
    this.line(event, 'preflight', 'steady state does not hold:');
    for (const problem of result.problems) this.print(`             - ${problem}`);
  }

  private inject(event: HistoryEvent, state: GameDayState): void {
    const response = state.inject;
    if (!response) return;
    if (!response.ok) {
      this.line(event, 'inject', `refused: ${response.error.code}: ${response.error.message}`);
      return;
    }
    const plan = response.result.plan as { summary?: unknown } | undefined;
    const summary = typeof plan?.summary === 'string' ? plan.summary : 'applied';
    const dry = response.result.status === 'dry-run';
    this.line(event, 'inject', dry ? `dry run, would: ${summary}` : `injected: ${summary}`);
  }

  private observation(event: HistoryEvent, state: GameDayState): void {
    const o: Observation | undefined = state.observation;
    if (!o) return;
    const phase = o.phase === 'fault' ? 'observe' : 'verify';
    if (!o.latest) {
      if (o.reason === 'not-injected')
        this.line(event, phase, 'nothing was injected: nothing to watch');
      return;
    }
    const { targets, requests } = o.latest;
    const parts = [
      `targets ${targets.healthy}/${targets.total} healthy`,
      `canary ${requests.succeeded}/${requests.total} ok (${percent(requests.succeeded, requests.total)})`,
      `run ${percent(o.requests.succeeded, o.requests.total)} of ${o.requests.total}`,
    ];
    const injectedAt = o.timeline.injectedAt;
    for (const [key, label] of MOMENTS) {
      const at = o.timeline[key];
      if (at !== undefined && injectedAt !== undefined && !this.printedMoments.has(key)) {
        this.printedMoments.add(key);
        parts.push(`${label} ${((at - injectedAt) / 1000).toFixed(1)} s after injection`);
      }
    }
    if (o.done && o.reason) parts.push(`phase over: ${o.reason}`);
    this.line(event, phase, parts.join(' · '));
  }

  private restore(event: HistoryEvent, state: GameDayState): void {
    const response = state.restore;
    if (!response) return;
    if (!response.ok) {
      this.line(
        event,
        'restore',
        `restore answered ${response.error.code}: ${response.error.message}`,
      );
      return;
    }
    const status = typeof response.result.status === 'string' ? response.result.status : 'done';
    this.line(event, 'restore', status);
  }
}
