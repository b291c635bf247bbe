import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { cpuMicrosPerRequest, readProcessCpuMicros, type ProcFiles } from '../../bench/process-cpu';
import { renderBenchmarks } from '../../bench/render';
import type { BenchResults } from '../../bench/results';

const threads = (schedstats: Record<string, string>): ProcFiles => ({
  listThreads: () => Object.keys(schedstats),
  readSchedstat: (_pid, thread) => schedstats[thread],
});

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
    // GIVEN a child that spins until it has used 300 ms of CPU (however busy the machine is), says
    // so, then waits to be stopped
    const child = spawn(
      process.execPath,
      [
        '-e',
        'while (process.cpuUsage().user < 300000); process.stdout.write("spun\\n"); setInterval(() => {}, 1000);',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', () => resolve());
        child.once('exit', (code) => reject(new Error(`the spinning child exited with ${code}`)));
      });
      const micros = readProcessCpuMicros(child.pid!);
      if (existsSync(`/proc/${child.pid}/task`) && micros !== undefined) {
        // THEN at least the spin shows, and not more than a minute of CPU
        expect(micros).toBeGreaterThanOrEqual(300_000);
        expect(micros).toBeLessThan(60_000_000);
      } else {
        expect(micros).toBeUndefined();
      }
    } finally {
      child.kill('SIGKILL');
    }
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

  test('results from before it was measured render as they did', () => {
    // GIVEN results with no server CPU anywhere (as bench/results.json was before it was measured)
    const results = committed();
    const service = results.service as Extract<BenchResults['service'], { scenarios: unknown }>;
    const withoutCpu = {
      ...results,
      service: {
        ...service,
        comparisons: { ...service.comparisons, cacheHitServerCpuVsFairLimit: undefined },
        scenarios: service.scenarios.map((scenario) => ({
          ...scenario,
          serverCpuMicrosPerRequest: undefined,
          runs: scenario.runs.map((run) => ({ ...run, serverCpuMicrosPerRequest: undefined })),
        })),
      },
    } as BenchResults;
    // WHEN rendered THEN the table and the lines are as they were
    const markdown = renderBenchmarks(withoutCpu);
    expect(markdown).toContain('| scenario | throughput | mean latency | p99 latency |\n');
    expect(markdown).not.toContain('Server CPU per request');
  });
});
