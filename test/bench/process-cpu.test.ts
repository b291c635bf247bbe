import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import {
  cpuMicrosPerRequest,
  kernelSharePercent,
  readProcessCpuMicros,
  readUserSystemTicks,
  type ProcFiles,
} from '../../bench/process-cpu';
import { renderBenchmarks } from '../../bench/render';
import type { BenchResults } from '../../bench/results';

const threads = (schedstats: Record<string, string>): ProcFiles => ({
  listThreads: () => Object.keys(schedstats),
  readSchedstat: (_pid, thread) => schedstats[thread],
});

/**
 * Runs `check` on a child that has spun in user space until it used `userMicros` of CPU (however
 * busy the machine is), said so, and now waits to be stopped; stops it afterwards.
 */
async function withSpinningChild(userMicros: number, check: (pid: number) => void): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `while (process.cpuUsage().user < ${userMicros}); process.stdout.write("spun\\n"); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`the spinning child exited with ${code}`)));
    });
    check(child.pid!);
  } finally {
    child.kill('SIGKILL');
  }
}

describe('server CPU time (bench/process-cpu.ts)', () => {
  test('sums the on-CPU nanoseconds of every thread, in µs', () => {
    // GIVEN two threads: 3 ms and 1.5 ms on a CPU (the first field; the others are wait time and slices)
    const proc = threads({ '101': '3000000 999 7\n', '102': '1500000 5 2\n' });
    // THEN the process spent 4,500 µs
    expect(readProcessCpuMicros(101, proc)).toBe(4500);
  });

  test.each([
    [
      'no /proc (not Linux, or the process is gone)',
      {
        listThreads: () => {
          throw new Error('ENOENT');
        },
        readSchedstat: () => '',
      },
    ],
    ['a garbled schedstat', threads({ '1': 'x 1 2\n' })],
    ['a kernel without schedstats (all zero)', threads({ '1': '0 0 0\n' })],
  ])('is unknown with %s', (_name, proc) => {
    expect(readProcessCpuMicros(1, proc)).toBeUndefined();
  });

  test('per request: the difference over the requests served, one decimal', () => {
    expect(cpuMicrosPerRequest(1000, 4000, 90)).toBe(33.3);
  });

  test.each([
    ['no reading before', undefined, 10, 5],
    ['no reading after', 10, undefined, 5],
    ['a thread gone between readings (time went down)', 10, 5, 5],
    ['no request served', 10, 20, 0],
  ])('per request is unknown with %s', (_name, before, after, requests) => {
    expect(cpuMicrosPerRequest(before, after, requests)).toBeUndefined();
  });

  test('reads a real busy process on this machine', async () => {
    // GIVEN a child that has used 300 ms of CPU
    await withSpinningChild(300_000, (pid) => {
      const micros = readProcessCpuMicros(pid);
      if (existsSync(`/proc/${pid}/task`) && micros !== undefined) {
        // THEN at least the spin shows, and not more than a minute of CPU
        expect(micros).toBeGreaterThanOrEqual(300_000);
        expect(micros).toBeLessThan(60_000_000);
      } else {
        expect(micros).toBeUndefined();
      }
    });
  });
});

describe('user and kernel CPU of a server (bench/process-cpu.ts)', () => {
  // A /proc/<pid>/stat line: pid, (comm), state, then fields 4-13, utime (14), stime (15), ...
  const statLine = (comm: string, utime: number, stime: number) =>
    `4242 (${comm}) S 1 4242 4242 0 -1 4194560 2931 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 123 1024 99\n`;

  test('reads utime and stime, in ticks', () => {
    expect(readUserSystemTicks(4242, () => statLine('node', 700, 300))).toEqual({
      user: 700,
      system: 300,
    });
  });

  test('reads past a command name with spaces and parentheses', () => {
    // GIVEN a process that named itself 'a) (b c' (field 2 may hold anything but a newline)
    // THEN the fields are counted from the last ')'
    expect(readUserSystemTicks(4242, () => statLine('a) (b c', 5, 9))).toEqual({
      user: 5,
      system: 9,
    });
  });

  test.each([
    [
      'no /proc file',
      () => {
        throw new Error('ENOENT');
      },
    ],
    ['a truncated line', () => '4242 (node) S 1 4242'],
    ['a garbled utime', () => statLine('node', 1, 2).replace(' 1 2 0 0 20', ' x 2 0 0 20')],
  ])('is unknown with %s', (_name, readStat) => {
    expect(readUserSystemTicks(4242, readStat)).toBeUndefined();
  });

  test('the kernel share between two readings, one decimal', () => {
    // GIVEN 300 user and 150 kernel ticks between the readings THEN a third was in the kernel
    expect(kernelSharePercent({ user: 100, system: 50 }, { user: 400, system: 200 })).toBe(33.3);
  });

  test.each([
    ['no reading before', undefined, { user: 1, system: 1 }],
    ['no reading after', { user: 1, system: 1 }, undefined],
    ['no CPU time between them', { user: 5, system: 5 }, { user: 5, system: 5 }],
    ['a counter that went down (another process)', { user: 5, system: 5 }, { user: 9, system: 1 }],
  ])('the kernel share is unknown with %s', (_name, before, after) => {
    expect(kernelSharePercent(before, after)).toBeUndefined();
  });

  test('reads a real process on this machine', async () => {
    // GIVEN a child that has used 200 ms of CPU in user space
    await withSpinningChild(200_000, (pid) => {
      const ticks = readUserSystemTicks(pid);
      if (existsSync(`/proc/${pid}/stat`)) {
        // THEN the spin shows as user time (at least 10 ticks of 10 ms, less than a minute's worth)
        expect(ticks).toBeDefined();
        expect(ticks!.user).toBeGreaterThanOrEqual(10);
        expect(ticks!.user + ticks!.system).toBeLessThan(6000);
      } else {
        expect(ticks).toBeUndefined();
      }
    });
  });
});

describe('server CPU per request in BENCHMARKS.md', () => {
  const committed = (): BenchResults =>
    JSON.parse(
      readFileSync(path.join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8'),
    ) as BenchResults;

  test('results that measured it get a column and the hit-vs-fair-limit line', () => {
    // GIVEN results whose service runs measured server CPU
    const results = committed();
    const service = results.service as Extract<BenchResults['service'], { scenarios: unknown }>;
    const withCpu = {
      ...results,
      service: {
        ...service,
        scenarios: service.scenarios.map((scenario) => ({
          ...scenario,
          serverCpuMicrosPerRequest: { unit: 'µs', runs: 3, min: 30, median: 31.5, max: 40 },
        })),
        comparisons: {
          ...service.comparisons,
          cacheHitServerCpuVsFairLimit: { unit: '×', runs: 3, min: 1.1, median: 1.2, max: 1.3 },
        },
      },
    } as BenchResults;
    // WHEN rendered
    const markdown = renderBenchmarks(withCpu);
    // THEN the service table has the column, and the line names the ratio and what it allows
    expect(markdown).toContain(
      '| scenario | throughput | mean latency | p99 latency | server CPU per request |',
    );
    expect(markdown).toMatch(
      /\| service-cache-hit \| [^\n]* \| 31\.5 µs \(min 30, max 40; 3 runs\) \|/,
    );
    expect(markdown).toContain(
      'A cache hit costs the service 1.2× (min 1.1, max 1.3; 3 runs) the fair limit',
    );
  });

  test('results that split it get a kernel column and the user/kernel sentence', () => {
    // GIVEN results whose service runs measured server CPU and its kernel share
    const results = committed();
    const service = results.service as Extract<BenchResults['service'], { scenarios: unknown }>;
    const withSplit = {
      ...results,
      service: {
        ...service,
        scenarios: service.scenarios.map((scenario) => ({
          ...scenario,
          serverCpuMicrosPerRequest: { unit: 'µs', runs: 3, min: 30, median: 31.5, max: 40 },
          serverKernelPercent: { unit: '%', runs: 3, min: 28, median: 31.2, max: 35 },
        })),
        comparisons: {
          ...service.comparisons,
          cacheHitServerCpuVsFairLimit: { unit: '×', runs: 3, min: 0.9, median: 0.96, max: 1 },
          cacheHitUserCpuVsFairLimit: { unit: '×', runs: 3, min: 1.1, median: 1.15, max: 1.2 },
          cacheHitKernelCpuVsFairLimit: { unit: '×', runs: 3, min: 0.6, median: 0.7, max: 0.8 },
        },
      },
    } as BenchResults;
    // WHEN rendered
    const markdown = renderBenchmarks(withSplit);
    // THEN the table has both columns, and the CPU line names both ratios
    expect(markdown).toContain(
      '| scenario | throughput | mean latency | p99 latency | server CPU per request | of it in the kernel |',
    );
    expect(markdown).toMatch(
      /\| service-cache-hit \| [^\n]* \| 31\.5 µs \(min 30, max 40; 3 runs\) \| 31\.2 % \(min 28, max 35; 3 runs\) \|/,
    );
    expect(markdown).toContain(
      "1.15× (min 1.1, max 1.2; 3 runs) the fair limit's CPU in user space",
    );
    expect(markdown).toContain('0.7× (min 0.6, max 0.8; 3 runs) its CPU in the kernel');
  });

  test('results from before it was measured render as they did', () => {
    // GIVEN results with no server CPU anywhere (as bench/results.json was before it was measured)
    const results = committed();
    const service = results.service as Extract<BenchResults['service'], { scenarios: unknown }>;
    const withoutCpu = {
      ...results,
      service: {
        ...service,
        comparisons: {
          ...service.comparisons,
          cacheHitServerCpuVsFairLimit: undefined,
          cacheHitUserCpuVsFairLimit: undefined,
          cacheHitKernelCpuVsFairLimit: undefined,
        },
        scenarios: service.scenarios.map((scenario) => ({
          ...scenario,
          serverCpuMicrosPerRequest: undefined,
          serverKernelPercent: undefined,
          runs: scenario.runs.map((run) => ({
            ...run,
            serverCpuMicrosPerRequest: undefined,
            serverKernelPercent: undefined,
          })),
        })),
      },
    } as BenchResults;
    // WHEN rendered THEN the table and the lines are as they were
    const markdown = renderBenchmarks(withoutCpu);
    expect(markdown).toContain('| scenario | throughput | mean latency | p99 latency |\n');
    expect(markdown).not.toContain('Server CPU per request');
  });
});
