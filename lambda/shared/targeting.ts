/**
 * Which tasks an experiment touches, and the blast-radius cap every experiment must respect.
 *
 * Capacity is what the load balancer finds healthy, not what ECS reports RUNNING: a task whose
 * target is `initial` (a replacement still starting), `draining` (a stopped task) or `unhealthy`
 * serves nobody. The cap's base is the service's desired count, never the running count, which a
 * deployment inflates.
 */
import type { ServiceInfo, TaskInfo } from './ecs';
import { GuardrailRefusal } from './errors';

export const isRunning = (t: TaskInfo): boolean =>
  t.lastStatus === 'RUNNING' && (t.desiredStatus ?? 'RUNNING') === 'RUNNING';

/** One target of the service's target group, as DescribeTargetHealth reports it. */
export interface TargetHealthEntry {
  /** The target id: the task's private IPv4 address in an IP target group. */
  readonly id: string;
  /** The target's port, when the answer gives it: a target is one id and port. */
  readonly port?: number;
  /** `healthy`, `initial`, `unhealthy`, `draining`, `unused`, `unavailable`. */
  readonly state: string;
}

/** Which tasks serve users, and how that was learned. */
export interface Capacity {
  /** Ids of running tasks that serve: their target is healthy (or, from ECS alone, RUNNING). */
  readonly serving: ReadonlySet<string>;
  readonly source: 'load-balancer' | 'ecs';
}

/**
 * The tasks that serve. With the target group's health, a running task serves only when a
 * healthy target has its address; without it (no target group), every running task counts.
 */
export function capacityOf(
  tasks: readonly TaskInfo[],
  targets: readonly TargetHealthEntry[] | undefined,
): Capacity {
  const running = tasks.filter(isRunning);
  if (targets === undefined) {
    return { serving: new Set(running.map((t) => t.taskId)), source: 'ecs' };
  }
  const healthy = new Set(targets.filter((t) => t.state === 'healthy').map((t) => t.id));
  return {
    serving: new Set(
      running
        .filter((t) => t.privateIpv4Address !== undefined && healthy.has(t.privateIpv4Address))
        .map((t) => t.taskId),
    ),
    source: 'load-balancer',
  };
}

const servingWord = (capacity: Capacity | undefined): string =>
  capacity?.source === 'load-balancer' ? 'healthy in the load balancer' : 'running';

export interface TaskRequest {
  readonly count?: number;
  readonly percent?: number;
  readonly availabilityZone?: string;
}

/**
 * Picks `count` tasks, or `percent` % of the candidates (at least one), at random among the
 * serving tasks (of one AZ when asked). A task whose target is not healthy (a replacement still
 * `initial`) is never picked. Refuses when there are not enough.
 */
export function pickTasks(
  tasks: readonly TaskInfo[],
  request: TaskRequest,
  random: () => number,
  capacity?: Capacity,
): TaskInfo[] {
  const where = request.availabilityZone ? ` in ${request.availabilityZone}` : '';
  const what = servingWord(capacity);
  const candidates = tasks.filter(
    (t) =>
      isRunning(t) &&
      (capacity === undefined || capacity.serving.has(t.taskId)) &&
      (!request.availabilityZone || t.availabilityZone === request.availabilityZone),
  );
  if (candidates.length === 0) {
    throw new GuardrailRefusal('no-target', `no task${where} is ${what}, so none to act on`);
  }
  const wanted =
    request.count ??
    (request.percent !== undefined
      ? Math.max(1, Math.floor((candidates.length * request.percent) / 100))
      : 1);
  if (wanted > candidates.length) {
    throw new GuardrailRefusal(
      'no-target',
      `asked for ${wanted} tasks but only ${candidates.length} ${candidates.length === 1 ? 'is' : 'are'} ${what}${where}`,
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
 * Refuses when the serving tasks the experiment would affect, plus serving tasks live faults
 * already reach, plus the capacity the service is already missing (desired but not serving),
 * exceed floor(MAX_TASK_SHARE x desired count). The base is the desired count: a deployment's
 * extra tasks do not widen the cap. Missing capacity is a cooldown: after a task is lost, nothing
 * more is allowed until its replacement is healthy again.
 */
export function assertWithinBlastRadius(input: {
  readonly service: ServiceInfo;
  readonly tasks: readonly TaskInfo[];
  /** Task ids the experiment affects, with those live faults already reach; `*` means all. */
  readonly affectedTaskIds: ReadonlySet<string>;
  readonly maxTaskShare: number;
  readonly what: string;
  /** @default - every running task counts as serving (no target health) */
  readonly capacity?: Capacity;
}): void {
  const capacity = input.capacity ?? capacityOf(input.tasks, undefined);
  const base = input.service.desiredCount;
  const serving = capacity.serving.size;
  const missing = Math.max(0, base - serving);
  const affected = input.affectedTaskIds.has('*')
    ? serving
    : [...capacity.serving].filter((id) => input.affectedTaskIds.has(id)).length;
  const cap = Math.floor(base * input.maxTaskShare);
  if (affected + missing > cap) {
    throw new GuardrailRefusal(
      'blast-radius',
      `${input.what} would leave ${affected + missing} of ${base} desired tasks affected ` +
        `(${affected} by faults or stops, ${missing} not ${servingWord(capacity)}); the cap is ${cap} ` +
        `(MAX_TASK_SHARE ${input.maxTaskShare} of the desired count)` +
        (missing > 0 ? '; wait until the service is back to full capacity' : ''),
    );
  }
}
