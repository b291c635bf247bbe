import { checkZonalShift } from '../../lib/doctor/zonal-shift-check';

import { forkConfig } from './support';

describe('the zonal shift check', () => {
  test('passes a fork with three AZs and one task each, naming the autoshift setting', () => {
    const result = checkZonalShift(forkConfig());
    expect(result.status).toBe('ok');
    expect(result.detail).toContain('autoshift off');
  });

  test('says when autoshift is on, with what ends and blocks its practice runs', () => {
    const result = checkZonalShift(forkConfig({ zonalShift: { autoshift: true } }));
    expect(result.detail).toContain(
      'autoshift on (weekly practice runs end early on region-impaired, blocked by healthy-hosts-low)',
    );
  });

  test('warns when a shift would leave fewer tasks than the healthy-hosts alarm wants', () => {
    // GIVEN 4 tasks over 3 AZs (2 in the busiest) and a chaos share that wants 3 healthy
    const result = checkZonalShift(
      forkConfig({
        sizing: { desiredTasks: 4, minTasks: 4, maxTasks: 6, taskCpu: 512, taskMemoryMiB: 1024 },
        chaos: { maxTaskShare: 0.1 },
      }),
    );
    expect(result.status).toBe('warn');
    expect(result.detail).toContain(
      'eu-west-1: a shift away from one AZ leaves 2 of 4 tasks, below the 3 healthy hosts its alarm wants',
    );
    expect(result.fix).toMatch(/raise sizing.minTasks/);
  });

  test('warns for a region of two AZs', () => {
    const result = checkZonalShift(
      forkConfig({
        regions: [
          { region: 'eu-west-1', availabilityZones: ['eu-west-1a', 'eu-west-1b'] },
          {
            region: 'eu-central-1',
            availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
          },
        ],
      }),
    );
    expect(result.status).toBe('warn');
    expect(result.detail).toContain('eu-west-1 has 2 AZs: a shift leaves one AZ serving alone');
  });
});
