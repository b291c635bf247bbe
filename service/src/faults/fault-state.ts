import type { Fault, FaultParams, FaultType } from './fault-document';

/**
 * The faults currently in force for this task. Expiry is checked at use, not at poll time, so a
 * fault stops at its `expiresAt` even if the document is not read again.
 */
export class FaultState {
  private faults: readonly Fault[] = [];

  /**
   * @param taskIds the ids a fault may target this task by (the ECS task ARN and its last segment,
   *   or TASK_ID locally)
   */
  /**
   * @param revisionFaults faults the revision itself carries (REVISION_FAULTS, read once at start),
   *   in force next to the polled document's: the bad-deploy game day deploys a revision with one
   */
  constructor(
    private readonly taskIds: readonly string[],
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
    private readonly revisionFaults: readonly Fault[] = [],
  ) {}

  replace(faults: readonly Fault[]): void {
    this.faults = faults;
  }

  /** Active, unexpired faults that target this task. */
  active(): Fault[] {
    const now = this.now();
    return [...this.revisionFaults, ...this.faults].filter(
      (fault) =>
        fault.expiresAt.getTime() > now &&
        fault.targets.some((target) => target === '*' || this.taskIds.includes(target)),
    );
  }

  /**
   * The params of an active fault of this type when this call is one it hits (by its ratio), else
   * undefined. Each call rolls once.
   */
  hit(type: FaultType): FaultParams | undefined {
    if (this.faults.length === 0 && this.revisionFaults.length === 0) return undefined;
    const fault = this.active().find((candidate) => candidate.type === type);
    if (!fault) return undefined;
    return this.random() < fault.params.ratio ? fault.params : undefined;
  }
}
