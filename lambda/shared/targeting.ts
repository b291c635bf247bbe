/** Which tasks an experiment touches, and the blast-radius cap every experiment must respect. */
import type { ServiceInfo, TaskInfo } from './ecs';
import { GuardrailRefusal } from './errors';

export const isRunning = (t: TaskInfo): boolean =>
  t.lastStatus === 'RUNNING' && (t.desiredStatus ?? 'RUNNING') === 'RUNNING';

export interface TaskRequest {
  readonly count?: number;
  readonly percent?: number;
  readonly availabilityZone?: string;
}

/**
 * Picks `count` tasks, or `percent` % of the candidates (at least one), at random among the
 * running tasks (of one AZ when asked). Refuses when there are not enough.
 */
export function pickTasks(
  tasks: readonly TaskInfo[],
  request: TaskRequest,
  random: () => number,
): TaskInfo[] {
  const where = request.availabilityZone ? ` in ${request.availabilityZone}` : '';
  const candidates = tasks.filter(
    (t) =>
      isRunning(t) &&
      (!request.availabilityZone || t.availabilityZone === request.availabilityZone),
  );
  if (candidates.length === 0) {
    throw new GuardrailRefusal('no-target', `no running task${where} to act on`);
  }
  const wanted =
    request.count ??
    (request.percent !== undefined
      ? Math.max(1, Math.floor((candidates.length * request.percent) / 100))
      : 1);
  if (wanted > candidates.length) {
    throw new GuardrailRefusal(
      'no-target',
      `asked for ${wanted} tasks but only ${candidates.length} ${candidates.length === 1 ? 'is' : 'are'} running${where}`,
    );
  }
  return shuffle(candidates, random).slice(0, wanted);
}

/** Fisher-Yates, with the random source passed in so that tests can fix it. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * Refuses when the tasks an experiment would affect, plus tasks already affected by live faults,
 * plus tasks the service is already missing (desired but not running), exceed
 * floor(MAX_TASK_SHARE x the region's tasks). A service that is already degraded gets less room.
 */
export function assertWithinBlastRadius(input: {
  readonly service: ServiceInfo;
  readonly tasks: readonly TaskInfo[];
  /** Task ids the experiment affects, with those live faults already reach; `*` means all. */
  readonly affectedTaskIds: ReadonlySet<string>;
  readonly maxTaskShare: number;
  readonly what: string;
}): void {
  const running = input.tasks.filter(isRunning);
  const regionTasks = Math.max(input.service.desiredCount, running.length);
  const missing = Math.max(0, input.service.desiredCount - running.length);
  const affected = input.affectedTaskIds.has('*')
    ? running.length
    : running.filter((t) => input.affectedTaskIds.has(t.taskId)).length;
  const cap = Math.floor(regionTasks * input.maxTaskShare);
  if (affected + missing > cap) {
    throw new GuardrailRefusal(
      'blast-radius',
      `${input.what} would leave ${affected + missing} of ${regionTasks} tasks affected ` +
        `(${affected} by faults or stops, ${missing} already not running); the cap is ${cap} ` +
        `(MAX_TASK_SHARE ${input.maxTaskShare})`,
    );
  }
}
