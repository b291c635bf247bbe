import { FaultDocumentError, parseFaultDocument } from '../../service/src/faults/fault-document';
import { FaultState } from '../../service/src/faults/fault-state';

function problemsOf(text: string): readonly string[] {
  try {
    parseFaultDocument(text);
  } catch (error) {
    if (error instanceof FaultDocumentError) return error.problems;
    throw error;
  }
  throw new Error('the document was accepted');
}

describe('parseFaultDocument', () => {
  test('reads the documented shape, with defaults for missing params', () => {
    const faults = parseFaultDocument(
      JSON.stringify({
        faults: [
          {
            type: 'latency',
            targets: ['abc123'],
            expiresAt: '2030-01-01T00:00:00Z',
            params: { ratio: 0.5, latencyMs: 800 },
          },
          { type: 'error-status', targets: ['*'], expiresAt: '2030-01-01T00:00:00.500+02:00' },
        ],
      }),
    );

    expect(faults).toEqual([
      {
        type: 'latency',
        targets: ['abc123'],
        expiresAt: new Date('2030-01-01T00:00:00Z'),
        params: { ratio: 0.5, latencyMs: 800, status: 503, bypassGuard: true },
      },
      {
        type: 'error-status',
        targets: ['*'],
        expiresAt: new Date('2029-12-31T22:00:00.500Z'),
        params: { ratio: 1, latencyMs: 1000, status: 503, bypassGuard: true },
      },
    ]);
  });

  test('an empty list is valid: no faults', () => {
    expect(parseFaultDocument('{"faults":[]}')).toEqual([]);
  });

  test('a fault with no targets is valid and applies to no task (a chaos run that picked none)', () => {
    const [fault] = parseFaultDocument(
      '{"faults":[{"type":"latency","targets":[],"expiresAt":"2030-01-01T00:00:00Z","params":{}}]}',
    );
    const state = new FaultState(['abc'], () => Date.parse('2029-01-01T00:00:00Z'));
    state.replace([fault]);
    expect(state.active()).toEqual([]);
  });

  test.each([
    ['', ['not JSON']],
    ['[]', ['must be an object with a "faults" array']],
    ['{"faults":{}}', ['must be an object with a "faults" array']],
    ['{"faults":[42]}', ['faults[0] must be an object, got 42']],
    [
      '{"faults":[{"type":"latency","targets":["*"],"expiresAt":"2030-01-01"}]}',
      ['faults[0].expiresAt must be an ISO-8601 date-time with a zone, got "2030-01-01"'],
    ],
    [
      '{"faults":[{"type":"latency","targets":["*"],"expiresAt":"2030-02-28T00:00:00Z","params":{"ratio":2,"latencyMs":-1,"status":200,"bypassGuard":"yes"}}]}',
      [
        'faults[0].params.ratio must be a number 0-1, got 2',
        'faults[0].params.latencyMs must be an integer 0-60000, got -1',
        'faults[0].params.status must be an integer 400-599, got 200',
        'faults[0].params.bypassGuard must be true or false, got "yes"',
      ],
    ],
    [
      '{"faults":[{"type":"latency","targets":[""],"expiresAt":"2030-01-01T00:00:00Z","params":[]}]}',
      [
        'faults[0].targets must be a list of up to 100 non-empty strings (task ids or "*"), got [""]',
        'faults[0].params must be an object, got []',
      ],
    ],
  ])('%j is refused with its problems', (text, problems) => {
    expect(problemsOf(text)).toEqual(problems);
  });
});

describe('FaultState', () => {
  const at = (iso: string) => Date.parse(iso);
  const latency = {
    type: 'latency' as const,
    targets: ['arn:aws:ecs:eu-west-1:123:task/cluster/abc'],
    expiresAt: new Date('2030-01-01T00:01:00Z'),
    params: { ratio: 0.5, latencyMs: 10, status: 503, bypassGuard: true },
  };

  test('a fault applies to the task it targets until it expires, by its ratio', () => {
    let now = at('2030-01-01T00:00:00Z');
    let roll = 0.4;
    const state = new FaultState(
      ['arn:aws:ecs:eu-west-1:123:task/cluster/abc', 'abc'],
      () => now,
      () => roll,
    );
    state.replace([latency]);

    expect(state.hit('latency')).toEqual(latency.params);
    roll = 0.6;
    expect(state.hit('latency')).toBeUndefined();
    roll = 0.1;
    expect(state.hit('empty-response')).toBeUndefined();
    now = at('2030-01-01T00:01:00Z');
    expect(state.hit('latency')).toBeUndefined();
    expect(state.active()).toEqual([]);
  });

  test('a fault naming another task, or no task of ours, does not apply', () => {
    const state = new FaultState(
      ['def'],
      () => at('2030-01-01T00:00:00Z'),
      () => 0,
    );
    state.replace([latency, { ...latency, type: 'health-fail', targets: ['xyz'] }]);
    expect(state.active()).toEqual([]);
  });
});
