import {
  interleavedOrder,
  median,
  pairedDifferences,
  pairedRatios,
  pairedReductionPercent,
  summarize,
} from '../../bench/stats';

describe('summarize', () => {
  test('reports the unit, the run count and the min, median and max of unsorted runs', () => {
    // GIVEN five runs in the order they were taken
    const runs = [12.4, 10.1, 30.25, 11.0, 9.9];
    // WHEN
    const summary = summarize(runs, 's');
    // THEN
    expect(summary).toEqual({ unit: 's', runs: 5, min: 9.9, median: 11, max: 30.3 });
  });

  test('takes the mean of the two middle runs when the count is even', () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([4, 1, 3, 2], 'ms', 2).median).toBe(2.5);
  });

  test('refuses no runs and non-finite runs, naming the unit', () => {
    expect(() => summarize([], 'req/s')).toThrow('cannot summarise no values (unit req/s)');
    expect(() => summarize([1, Number.NaN], 's')).toThrow('non-finite value (NaN s)');
  });
});

describe('comparisons of runs taken in turn', () => {
  test('divides each run by the run of the same round, not median by median', () => {
    // GIVEN a slow round 2 that hit both sides alike
    const blueprint = [20, 40, 22];
    const baseline = [10, 20, 11];
    // WHEN
    const ratio = pairedRatios(blueprint, baseline);
    // THEN every round says 2×, although the runs themselves vary twofold
    expect(ratio).toEqual({ unit: '×', runs: 3, min: 2, median: 2, max: 2 });
  });

  test('shows how a per-round ratio differs from a ratio of medians', () => {
    // GIVEN rounds where A and B are each slow at different times
    const a = [1, 4, 2];
    const b = [2, 2, 8];
    // WHEN / THEN the per-round ratios are 0.5, 2 and 0.25
    expect(pairedRatios(a, b)).toEqual({ unit: '×', runs: 3, min: 0.25, median: 0.5, max: 2 });
  });

  test('expresses how much less time A took than B as a percentage per round', () => {
    expect(pairedReductionPercent([1, 3], [4, 4])).toEqual({
      unit: '%',
      runs: 2,
      min: 25,
      median: 50,
      max: 75,
    });
  });

  test('subtracts the run of the same round', () => {
    expect(pairedDifferences([5, 7, 6], [1, 1, 3], 'ms')).toMatchObject({
      min: 3,
      median: 4,
      max: 6,
    });
  });

  test('refuses sides with different run counts or a zero run to divide by', () => {
    expect(() => pairedRatios([1, 2], [1])).toThrow('got 2 and 1');
    expect(() => pairedRatios([1], [0])).toThrow('cannot divide by a zero run');
  });
});

describe('interleavedOrder', () => {
  test('runs every subject once per round and rotates which one goes first', () => {
    // WHEN
    const order = interleavedOrder(['blueprint', 'baseline', 'other'], 4);
    // THEN
    expect(order).toEqual([
      ['blueprint', 'baseline', 'other'],
      ['baseline', 'other', 'blueprint'],
      ['other', 'blueprint', 'baseline'],
      ['blueprint', 'baseline', 'other'],
    ]);
  });

  test('refuses a round count that is not a whole number of at least 1', () => {
    expect(() => interleavedOrder(['a'], 0)).toThrow(
      'rounds must be a whole number of at least 1, got 0',
    );
  });
});
