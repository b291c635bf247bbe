import { parseServiceBenchArgs } from '../../bench/service-args';

describe('parseServiceBenchArgs', () => {
  test('splits the reference build and the output file from the runs and seconds', () => {
    // GIVEN / WHEN
    const args = parseServiceBenchArgs(['3', '--reference', '/tmp/old', '2', '--out', 'x.json']);
    // THEN
    expect(args).toEqual({ positional: ['3', '2'], reference: '/tmp/old', out: 'x.json' });
  });

  test('without options, only the positional arguments', () => {
    expect(parseServiceBenchArgs(['5'])).toEqual({ positional: ['5'] });
  });

  test('an option without its path is refused, naming the option', () => {
    expect(() => parseServiceBenchArgs(['--reference'])).toThrow(
      '--reference needs a path after it',
    );
    expect(() => parseServiceBenchArgs(['--out', '--reference', 'x'])).toThrow(
      '--out needs a path after it',
    );
  });

  test('an unknown option is refused, naming it and the allowed ones', () => {
    expect(() => parseServiceBenchArgs(['--quick'])).toThrow(
      'unknown option --quick; allowed: --reference <dir>, --out <file>',
    );
  });
});
