/**
 * The fault document: the region's SSM String parameter that the service reads to know which
 * faults to inject. Shared contract with the service:
 *
 *   {"faults":[{"type":"empty-response"|"latency"|"error-status"|"health-fail"|"cache-blackhole",
 *               "targets":["<ECS task id>"|"*"], "expiresAt":"<ISO-8601>",
 *               "params":{"ratio":0.5,"latencyMs":800,"status":503}}]}
 *
 * Every fault carries `expiresAt`, so it stops by itself even if `restore` never runs.
 *
 * Concurrency: SSM has no compare-and-set, so writes are read-modify-write. That loses nothing
 * because every writer is a chaos function of this region holding the service's lease (a DynamoDB
 * conditional write, see `lease.ts`) while it reads and writes, and a lease outlives the longest
 * function run (leases last at least a minute; the functions time out sooner). So at most one
 * read-modify-write is in flight at a time.
 */

import {
  FAULT_TYPES,
  MAX_FAULTS,
  MAX_TARGETS_PER_FAULT,
  type FaultType,
} from '../../service/src/faults/fault-document';

import { AwsApiError } from './aws-json-api';
import { GuardrailRefusal } from './errors';
import type { SsmCalls } from './ssm-api';

// The service owns the contract; its types and limits are the ones writers must keep.
export {
  FAULT_TYPES,
  MAX_FAULTS,
  MAX_TARGETS_PER_FAULT,
} from '../../service/src/faults/fault-document';
export type { FaultType } from '../../service/src/faults/fault-document';

export interface FaultParams {
  readonly ratio?: number;
  readonly latencyMs?: number;
  readonly status?: number;
}

export interface Fault {
  readonly type: FaultType;
  /** ECS task ids (the last segment of the task ARN), or `*` for every task. */
  readonly targets: readonly string[];
  readonly expiresAt: string;
  readonly params: FaultParams;
}

export interface FaultDocument {
  readonly faults: readonly Fault[];
}

/** Standard-tier String parameters hold at most 4 KB. */
export const MAX_DOCUMENT_CHARS = 4096;
export const EMPTY_DOCUMENT: FaultDocument = { faults: [] };

/** Parses the parameter's text. Refuses (rather than overwrites) a document it cannot read. */
export function parseFaultDocument(text: string): FaultDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuseDocument('is not JSON');
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    !Array.isArray((value as FaultDocument).faults)
  ) {
    return refuseDocument('has no "faults" list');
  }
  const faults = (value as { faults: unknown[] }).faults.map((f, i) => {
    const fault = f as Partial<Fault> | null;
    const ok =
      typeof fault === 'object' &&
      fault !== null &&
      FAULT_TYPES.includes(fault.type as FaultType) &&
      Array.isArray(fault.targets) &&
      fault.targets.every((t) => typeof t === 'string') &&
      typeof fault.expiresAt === 'string' &&
      !Number.isNaN(Date.parse(fault.expiresAt));
    if (!ok) return refuseDocument(`has an unreadable fault at index ${i}`);
    return { ...fault, params: fault.params ?? {} } as Fault;
  });
  return { faults };
}

function refuseDocument(why: string): never {
  throw new GuardrailRefusal(
    'fault-document',
    `the fault document ${why}; fix or clear the parameter before running experiments`,
  );
}

export const isLive = (fault: Fault, now: Date): boolean =>
  Date.parse(fault.expiresAt) > now.getTime();

/** Key order differs between SSM text and DynamoDB maps, so faults compare in a canonical form. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export const sameFault = (a: Fault, b: Fault): boolean => canonical(a) === canonical(b);

/** Drops expired faults and appends `added` (skipping exact duplicates, so a replay adds nothing). */
export function withFaultsAdded(
  doc: FaultDocument,
  added: readonly Fault[],
  now: Date,
): FaultDocument {
  const live = doc.faults.filter((f) => isLive(f, now));
  return { faults: [...live, ...added.filter((a) => !live.some((f) => sameFault(f, a)))] };
}

/** Drops expired faults and exactly the faults in `removed`; other experiments' faults stay. */
export function withFaultsRemoved(
  doc: FaultDocument,
  removed: readonly Fault[],
  now: Date,
): FaultDocument {
  return {
    faults: doc.faults.filter((f) => isLive(f, now) && !removed.some((r) => sameFault(f, r))),
  };
}

/** Task ids that live faults reach. `*` means every task. */
export function faultedTaskIds(doc: FaultDocument, now: Date): ReadonlySet<string> {
  return new Set(doc.faults.filter((f) => isLive(f, now)).flatMap((f) => f.targets));
}

export async function readFaultDocument(ssm: SsmCalls, name: string): Promise<FaultDocument> {
  try {
    const out = await ssm.call('GetParameter', { Name: name });
    const text = out.Parameter?.Value ?? '';
    return text.trim() === '' ? EMPTY_DOCUMENT : parseFaultDocument(text);
  } catch (error) {
    if (error instanceof AwsApiError && error.type === 'ParameterNotFound') return EMPTY_DOCUMENT;
    throw error;
  }
}

export function serializeFaultDocument(doc: FaultDocument): string {
  if (doc.faults.length > MAX_FAULTS) {
    throw new GuardrailRefusal(
      'fault-document',
      `the fault document would hold ${doc.faults.length} faults, over the service's limit of ` +
        `${MAX_FAULTS}; restore other experiments first`,
    );
  }
  const wide = doc.faults.find((f) => f.targets.length > MAX_TARGETS_PER_FAULT);
  if (wide) {
    throw new GuardrailRefusal(
      'fault-document',
      `a ${wide.type} fault would name ${wide.targets.length} tasks, over the service's limit of ` +
        `${MAX_TARGETS_PER_FAULT}; target fewer tasks`,
    );
  }
  const text = JSON.stringify(doc);
  if (text.length > MAX_DOCUMENT_CHARS) {
    throw new GuardrailRefusal(
      'fault-document',
      `the fault document would be ${text.length} characters, over the parameter's ` +
        `${MAX_DOCUMENT_CHARS}; target fewer tasks or restore other experiments first`,
    );
  }
  return text;
}

/** Overwrites the parameter. Call only while holding the service's lease (see the module comment). */
export async function writeFaultDocument(
  ssm: SsmCalls,
  name: string,
  doc: FaultDocument,
): Promise<void> {
  await ssm.call('PutParameter', {
    Name: name,
    Value: serializeFaultDocument(doc),
    Type: 'String',
    Overwrite: true,
  });
}
