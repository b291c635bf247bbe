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

/** Clock ticks a process spent in user space and in the kernel so far (all its threads). */
export interface UserSystemTicks {
  readonly user: number;
  readonly system: number;
}

/**
 * A process's user and kernel CPU time so far, from /proc/<pid>/stat (utime and stime, fields 14
 * and 15, in clock ticks: coarse, so only their ratio over a whole run is used). Undefined where
 * there is no such file or it does not parse.
 */
export function readUserSystemTicks(
  pid: number,
  readStat: (pid: number) => string = (id) => readFileSync(`/proc/${id}/stat`, 'utf8'),
): UserSystemTicks | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: the fields after it follow the
    // last ')'. There, field 3 (the state) is index 0, so utime is index 11 and stime index 12.
    const stat = readStat(pid);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const user = Number(fields[11]);
    const system = Number(fields[12]);
    if (!Number.isInteger(user) || !Number.isInteger(system) || user < 0 || system < 0) {
      return undefined;
    }
    return { user, system };
  } catch {
    return undefined;
  }
}

/**
 * The share of a process's CPU time between two readings spent in the kernel (%, one decimal): on
 * a server, mostly its socket system calls. Undefined without both readings or without CPU time.
 */
export function kernelSharePercent(
  before: UserSystemTicks | undefined,
  after: UserSystemTicks | undefined,
): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  const user = after.user - before.user;
  const system = after.system - before.system;
  if (user < 0 || system < 0 || user + system === 0) return undefined;
  return Math.round((system / (user + system)) * 1000) / 10;
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
