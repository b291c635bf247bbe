/**
 * The CPU time one server process spent, to put a figure on what each request costs the server
 * itself. Throughput on a 2-core machine also depends on the load generator and memcached sharing
 * the cores, and on where the scheduler puts them; CPU per request does not, so the bench reports
 * it next to each throughput.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcFiles {
  readonly listThreads: (pid: number) => string[];
  readonly readSchedstat: (pid: number, thread: string) => string;
}

const PROC: ProcFiles = {
  listThreads: (pid) => readdirSync(`/proc/${pid}/task`),
  readSchedstat: (pid, thread) => readFileSync(`/proc/${pid}/task/${thread}/schedstat`, 'utf8'),
};

/**
 * Time on a CPU of every thread of `pid` so far (µs), from /proc/<pid>/task/<tid>/schedstat (its
 * first field, in ns: exact, unlike the 10 ms ticks of /proc/<pid>/stat). Undefined where there is
 * no such file (not Linux, a kernel without schedstats, a process gone).
 */
export function readProcessCpuMicros(pid: number, proc: ProcFiles = PROC): number | undefined {
  try {
    let nanoseconds = 0;
    for (const thread of proc.listThreads(pid)) {
      const onCpu = Number(proc.readSchedstat(pid, thread).trim().split(/\s+/)[0]);
      if (!Number.isFinite(onCpu)) return undefined;
      nanoseconds += onCpu;
    }
    return nanoseconds > 0 ? nanoseconds / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU µs per request between two readings (one decimal), when both exist and requests were served. */
export function cpuMicrosPerRequest(
  before: number | undefined,
  after: number | undefined,
  requests: number,
): number | undefined {
  if (before === undefined || after === undefined || after < before || requests <= 0) {
    return undefined;
  }
  return Math.round(((after - before) / requests) * 10) / 10;
}
