/**
 * Reading the state table: the keys of its items, and what an item read back means, for any
 * strongly consistent read (`itemReads` of `dynamodb-api.ts`). `state-table.ts` reads and writes;
 * the functions that only read (zonal-shift, gameday-observe) import this alone.
 */
import type { ExperimentState, Lease } from './state-table';

export const leaseKey = (target: string): string => `lease#${target}`;
export const stateKey = (target: string): string => `state#${target}`;

/** One strongly consistent read of an item by its key; undefined when there is none. */
export type ReadItem = (key: {
  readonly pk: string;
}) => Promise<Record<string, unknown> | undefined>;

export async function readLeaseWith(read: ReadItem, target: string): Promise<Lease | undefined> {
  const item = await read({ pk: leaseKey(target) });
  return item && typeof item.holder === 'string' && typeof item.expiresAt === 'number'
    ? { holder: item.holder, expiresAt: new Date(item.expiresAt * 1000) }
    : undefined;
}

export async function readStateWith(
  read: ReadItem,
  target: string,
): Promise<ExperimentState | undefined> {
  const item = await read({ pk: stateKey(target) });
  if (!item) return undefined;
  const state: Record<string, unknown> = { ...item };
  delete state.pk;
  delete state.expiresAt;
  delete state.writeId;
  state.version = typeof state.version === 'number' ? state.version : 0;
  return state as unknown as ExperimentState;
}
