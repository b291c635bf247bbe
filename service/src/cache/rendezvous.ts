/**
 * Rendezvous (highest-random-weight) hashing: a key goes to the node with the highest
 * hash(node, key). It is consistent hashing without a ring: every task picks the same node for a
 * key, and adding or removing a node moves only the keys that node gains or loses (about 1/n).
 * With one cache node per AZ, n is small, so scoring every node per key is cheap.
 */
export function pickNode<T extends string>(nodes: readonly T[], key: string): T {
  if (nodes.length === 0) {
    throw new Error('pickNode needs at least one node');
  }
  let best = nodes[0];
  let bestScore = -1;
  for (const node of nodes) {
    const score = hash32(node, key);
    if (score > bestScore || (score === bestScore && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/**
 * FNV-1a over `node`, a separator and `key`, then MurmurHash3's 32-bit finalizer so that similar
 * inputs (node names that differ in one digit) get unrelated scores. Not cryptographic; it only
 * has to spread keys evenly and be the same in every task.
 */
function hash32(node: string, key: string): number {
  let hash = 0x811c9dc5;
  const mix = (text: string) => {
    for (let index = 0; index < text.length; index += 1) {
      hash ^= text.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
  };
  mix(node);
  mix('\u0000');
  mix(key);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
