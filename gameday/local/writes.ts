import type { AcknowledgedWrite } from './load';

/** Reads every acknowledged write back through the load balancer after the run. */

export interface WriteCheck {
  readonly acknowledged: number;
  readonly verified: number;
  /** Acknowledged, then missing (404) or different when read back. */
  readonly lost: readonly string[];
  /** Could not be read back at all (no answer or a 5xx, three times). */
  readonly unreadable: readonly string[];
}

type Outcome = 'verified' | 'lost' | 'unreadable';

async function checkOne(baseUrl: string, write: AcknowledgedWrite): Promise<Outcome> {
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}/api/items/${encodeURIComponent(write.id)}`, {
        signal: AbortSignal.timeout(5000),
      });
      if (response.status === 404) return 'lost';
      if (response.ok) {
        const item = (await response.json()) as Record<string, unknown>;
        const same =
          item.name === write.name &&
          item.price === write.price &&
          typeof item.version === 'number' &&
          item.version >= write.version;
        return same ? 'verified' : 'lost';
      }
      await response.arrayBuffer();
    } catch {
      // No answer: try again.
    }
    await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
  }
  return 'unreadable';
}

export async function verifyWrites(
  baseUrl: string,
  writes: readonly AcknowledgedWrite[],
  concurrency = 8,
): Promise<WriteCheck> {
  const outcomes = new Map<string, Outcome>();
  let next = 0;
  const worker = async () => {
    while (next < writes.length) {
      const write = writes[next];
      next += 1;
      outcomes.set(write.id, await checkOne(baseUrl, write));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const having = (outcome: Outcome) =>
    [...outcomes].filter(([, value]) => value === outcome).map(([id]) => id);
  return {
    acknowledged: writes.length,
    verified: having('verified').length,
    lost: having('lost'),
    unreadable: having('unreadable'),
  };
}
