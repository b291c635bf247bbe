/**
 * CPU steal: time the hypervisor gave this machine's virtual CPUs to other guests. On a shared
 * VM it makes every timing slower and noisier, and the load average does not show it, so the
 * bench records it next to each figure it affects.
 */
import { readFileSync } from 'node:fs';

/** The machine's CPU time so far, in clock ticks, from the `cpu` line of /proc/stat. */
export interface CpuTimes {
  readonly steal: number;
  readonly total: number;
}

/** Parses /proc/stat's text; undefined where there is no such file (not Linux) or no steal column. */
export function readCpuTimes(
  read: () => string = () => readFileSync('/proc/stat', 'utf8'),
): CpuTimes | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((candidate) => candidate.startsWith('cpu '));
  // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user/nice]
  const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number);
  if (!fields || fields.length < 8 || fields.some((value) => !Number.isFinite(value))) {
    return undefined;
  }
  return { steal: fields[7], total: fields.reduce((sum, value) => sum + value, 0) };
}

/** Steal as a percentage of all CPU time between two readings (one decimal), when both exist. */
export function stealPercent(
  before: CpuTimes | undefined,
  after: CpuTimes | undefined,
): number | undefined {
  if (!before || !after || after.total <= before.total) return undefined;
  return Math.round((1000 * (after.steal - before.steal)) / (after.total - before.total)) / 10;
}
