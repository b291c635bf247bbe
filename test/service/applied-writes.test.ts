import {
  findApplied,
  keyToken,
  withApplied,
  type AppliedWrite,
} from '../../service/src/items/applied-writes';

/** The entries an item keeps of the writes applied to it: expiry and the cap on their number. */

const NOW = 1_000_000;

function entry(version: number, expiresAt: number): AppliedWrite {
  return { v: version, e: `etag-${version}`, u: '2026-01-01T00:00:00.000Z', x: expiresAt };
}

test('an expired entry is not found, and the next write drops it (an expired key is reclaimable)', () => {
  // GIVEN an item with one expired key and one live key
  const writes = { [keyToken('old')]: entry(1, NOW - 1), [keyToken('live')]: entry(2, NOW + 60) };

  // WHEN the old key is looked up, and a new write records its own entry
  const found = findApplied(writes, keyToken('old'), NOW);
  const next = withApplied(writes, 't:new', entry(3, NOW + 300), NOW, 50);

  // THEN the expired key counts as absent and is gone from the new version
  expect(found).toBeUndefined();
  expect(findApplied(writes, keyToken('live'), NOW)).toEqual(entry(2, NOW + 60));
  expect(Object.keys(next).sort()).toEqual([keyToken('live'), 't:new'].sort());
});

test('at the cap, plain write tokens go before Idempotency-Keys, and older before newer', () => {
  // GIVEN two keys and two plain tokens, all live, and a cap of three entries
  const writes = {
    [keyToken('a')]: entry(1, NOW + 60),
    't:b': entry(2, NOW + 60),
    [keyToken('c')]: entry(3, NOW + 60),
    't:d': entry(4, NOW + 60),
  };

  // WHEN a new write records its entry
  const next = withApplied(writes, keyToken('e'), entry(5, NOW + 60), NOW, 3);

  // THEN the two keys stay and the plain tokens make room, newest key kept first
  expect(Object.keys(next).sort()).toEqual([keyToken('a'), keyToken('c'), keyToken('e')].sort());
});

test('a write that records a token already there replaces its entry rather than adding one', () => {
  const writes = { [keyToken('a')]: entry(1, NOW + 60) };
  const next = withApplied(writes, keyToken('a'), entry(2, NOW + 60), NOW, 50);
  expect(next).toEqual({ [keyToken('a')]: entry(2, NOW + 60) });
});
