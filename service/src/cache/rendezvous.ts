import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest-random-weight) hashing: a key goes to the node with the highest
 * hash(node, key). It is consistent hashing without a ring: every task picks the same node for a
 * key, and adding or removing a node moves only the keys that node gains or loses (about 1/n).
 * With one cache node per AZ, n is small, so scoring every node per key costs a few microseconds.
 */
export function pickNode<T extends string>(nodes: readonly T[], key: string): T {
  if (nodes.length === 0) {
    throw new Error('pickNode needs at least one node');
  }
  let best = nodes[0];
  let bestScore = -1;
  for (const node of nodes) {
    const score = createHash('md5')
      .update(node)
      .update('\u0000')
      .update(key)
      .digest()
      .readUInt32BE(0);
    if (score > bestScore || (score === bestScore && node < best)) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}
