import { existsSync } from 'node:fs';

import { readCpuTimes, stealPercent } from '../../bench/cpu-steal';
import { stealLines } from '../../bench/render';
import type { ServiceRun } from '../../bench/service';

const stat = (steal: number, idle = 1000) =>
  `cpu  400 0 100 ${idle} 0 0 0 ${steal} 0 0\ncpu0 200 0 50 500 0 0 0 0 0 0\nintr 1 2 3\n`;

describe('CPU steal (bench/cpu-steal.ts)', () => {
  test('reads the steal column and the total of the aggregate cpu line, not a per-core one', () => {
    expect(readCpuTimes(() => stat(50))).toEqual({ steal: 50, total: 1550 });
  });

  test('is the share of all CPU time between two readings', () => {
    // GIVEN 200 ticks passed, 50 of them stolen
    const before = readCpuTimes(() => stat(0, 1000));
    const after = readCpuTimes(() => stat(50, 1150));
    // THEN steal was 25 % of the machine's CPU time
    expect(stealPercent(before, after)).toBe(25);
  });

  test.each([
    [
      'no /proc/stat (not Linux)',
      () => {
        throw new Error('ENOENT');
      },
    ],
    ['no aggregate cpu line', () => 'cpu0 1 2 3 4 5 6 7 8\n'],
    ['a kernel without the steal column', () => 'cpu  1 2 3 4 5 6 7\n'],
    ['a garbled line', () => 'cpu  1 2 x 4 5 6 7 8\n'],
  ])('is unknown with %s', (_name, read) => {
    expect(readCpuTimes(read)).toBeUndefined();
    expect(stealPercent(readCpuTimes(read), { steal: 1, total: 10 })).toBeUndefined();
  });

  test('is unknown when no time passed between the readings', () => {
    const reading = { steal: 5, total: 100 };
    expect(stealPercent(reading, reading)).toBeUndefined();
  });

  test('reads this machine when it has /proc/stat', () => {
    const times = readCpuTimes();
    if (existsSync('/proc/stat')) {
      expect(times?.total).toBeGreaterThan(0);
    } else {
      expect(times).toBeUndefined();
    }
  });
});

describe('the steal line in BENCHMARKS.md', () => {
  const run = (cpuStealPercent?: number) =>
    ({
      requestsPerSecond: 1,
      ...(cpuStealPercent === undefined ? {} : { cpuStealPercent }),
    }) as ServiceRun;

  test('summarises the runs that know their steal, and warns when it was high', () => {
    const [line] = stealLines([run(2), run(), run(40), run(10)]);
    expect(line).toMatch(/^- \*\*CPU steal during these runs\*\*/);
    expect(line).toContain('10 % (min 2, max 40; 3 runs)');
    expect(line).toContain('absolute req/s are lower and noisier');
  });

  test('says the figures stand when steal was low, and is left out when no run knows it', () => {
    expect(stealLines([run(0), run(1.5)])[0]).toContain('It was low');
    expect(stealLines([run(), run()])).toEqual([]);
  });
});
