import {
  Fault,
  MAX_DOCUMENT_CHARS,
  faultedTaskIds,
  parseFaultDocument,
  serializeFaultDocument,
  withFaultsAdded,
  withFaultsRemoved,
} from '../../lambda/shared/fault-document';

const NOW = new Date('2026-03-01T12:00:00Z');
const fault = (targets: string[], expiresAt: string, type: Fault['type'] = 'latency'): Fault => ({
  type,
  targets,
  expiresAt,
  params: { latencyMs: 800, ratio: 0.5 },
});
const live = fault(['a', 'b'], '2026-03-01T12:10:00Z');
const expired = fault(['c'], '2026-03-01T11:59:59Z');

describe('the fault document', () => {
  test('parses the contract and fills in missing params', () => {
    const doc = parseFaultDocument(
      JSON.stringify({
        faults: [{ type: 'health-fail', targets: ['*'], expiresAt: '2026-03-01T12:10:00Z' }],
      }),
    );
    expect(doc).toEqual({
      faults: [
        { type: 'health-fail', targets: ['*'], expiresAt: '2026-03-01T12:10:00Z', params: {} },
      ],
    });
  });

  test.each([
    ['not json', 'the fault document is not JSON'],
    ['{"rules":[]}', 'the fault document has no "faults" list'],
    [
      '{"faults":[{"type":"latency","targets":["a"],"expiresAt":"soon"}]}',
      'has an unreadable fault at index 0',
    ],
    [
      '{"faults":[{"type":"latency","targets":[1],"expiresAt":"2026-03-01T12:00:00Z"}]}',
      'has an unreadable fault at index 0',
    ],
  ])('refuses %s', (text, message) => {
    expect(() => parseFaultDocument(text)).toThrow(message);
  });

  test('adding drops expired faults and skips an exact duplicate', () => {
    const doc = withFaultsAdded(
      { faults: [live, expired] },
      [live, fault(['d'], '2026-03-01T12:05:00Z')],
      NOW,
    );
    expect(doc.faults).toEqual([live, fault(['d'], '2026-03-01T12:05:00Z')]);
  });

  test('removing takes out exactly the given faults, whatever their key order', () => {
    const reordered = {
      params: { ratio: 0.5, latencyMs: 800 },
      expiresAt: live.expiresAt,
      targets: ['a', 'b'],
      type: 'latency',
    } as Fault;
    const other = fault(['a', 'b'], '2026-03-01T12:10:00Z', 'empty-response');
    expect(withFaultsRemoved({ faults: [live, other, expired] }, [reordered], NOW).faults).toEqual([
      other,
    ]);
  });

  test('task ids reached by live faults exclude expired ones', () => {
    expect([...faultedTaskIds({ faults: [live, expired] }, NOW)]).toEqual(['a', 'b']);
  });

  test('a document the service would refuse (too many faults or targets) is refused', () => {
    const fifty = Array.from({ length: 51 }, (_, i) => fault([`t${i}`], '2026-03-01T12:10:00Z'));
    expect(() => serializeFaultDocument({ faults: fifty })).toThrow(
      "the fault document would hold 51 faults, over the service's limit of 50",
    );
    const wide = Array.from({ length: 101 }, (_, i) => `t${i}`);
    expect(() => serializeFaultDocument({ faults: [fault(wide, '2026-03-01T12:10:00Z')] })).toThrow(
      "a latency fault would name 101 tasks, over the service's limit of 100",
    );
  });

  test('a document over the parameter size limit is refused', () => {
    const many = Array.from({ length: 100 }, (_, i) => `${i}`.padStart(40, '0'));
    expect(() => serializeFaultDocument({ faults: [fault(many, '2026-03-01T12:10:00Z')] })).toThrow(
      `over the parameter's ${MAX_DOCUMENT_CHARS}; target fewer tasks or restore other experiments first`,
    );
  });
});
