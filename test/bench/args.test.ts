import { parseBenchArgs } from '../../bench/args';

describe('parseBenchArgs', () => {
  test('runs everything by default', () => {
    expect(parseBenchArgs([])).toEqual({
      help: false,
      quick: false,
      renderOnly: false,
      note: undefined,
    });
  });

  test('reads --quick and a trimmed --note', () => {
    expect(parseBenchArgs(['--quick', '--note', ' shared 2-core VM '])).toMatchObject({
      quick: true,
      note: 'shared 2-core VM',
    });
  });

  test('names an unknown option and lists the allowed ones', () => {
    expect(() => parseBenchArgs(['--fast'])).toThrow(
      /Unknown option '--fast'; allowed options are --quick, --note <text>, --render, --help$/,
    );
  });

  test('refuses a stray argument, an empty note and --render with --quick', () => {
    expect(() => parseBenchArgs(['synth'])).toThrow('unexpected argument "synth"');
    expect(() => parseBenchArgs(['--note', '  '])).toThrow('--note needs some text');
    expect(() => parseBenchArgs(['--render', '--quick'])).toThrow(
      '--render only re-draws BENCHMARKS.md; it cannot be combined with --quick',
    );
  });
});
