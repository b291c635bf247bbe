/**
 * Follows one execution: new history events as they come (oldest first), until the execution
 * ends, the wait runs out, or the user detaches. Every loop is bounded in count and time.
 */
import {
  DescribeExecutionCommand,
  DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';

import { GameDayCliError, explainAwsError } from './errors';

/** History pages read per poll at most (100 events each). */
const MAX_PAGES_PER_POLL = 50;

export class DetachedError extends Error {
  public override readonly name = 'DetachedError';
}

export interface FollowOptions {
  readonly region: string;
  readonly onEvent: (event: HistoryEvent) => void;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly now: () => number;
  /** Time between polls. */
  readonly pollMs: number;
  /** Longest the CLI follows one execution. */
  readonly maxWaitMs: number;
  /** Aborted when the user detaches (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Events newer than `afterId`, oldest first: reads newest first and stops at the last one seen. */
async function newEvents(
  sfn: SFNClient,
  executionArn: string,
  afterId: number,
): Promise<HistoryEvent[]> {
  const newestFirst: HistoryEvent[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES_PER_POLL; page++) {
    const out = await sfn.send(
      new GetExecutionHistoryCommand({
        executionArn,
        reverseOrder: true,
        maxResults: 100,
        includeExecutionData: true,
        nextToken,
      }),
    );
    for (const event of out.events ?? []) {
      if ((event.id ?? 0) <= afterId) return newestFirst.reverse();
      newestFirst.push(event);
    }
    nextToken = out.nextToken;
    if (!nextToken) break;
  }
  return newestFirst.reverse();
}

export async function followExecution(
  sfn: SFNClient,
  executionArn: string,
  options: FollowOptions,
): Promise<DescribeExecutionCommandOutput> {
  const deadline = options.now() + options.maxWaitMs;
  let lastId = 0;
  const drain = async () => {
    for (const event of await newEvents(sfn, executionArn, lastId)) {
      lastId = Math.max(lastId, event.id ?? 0);
      options.onEvent(event);
    }
  };
  for (;;) {
    if (options.signal?.aborted) throw new DetachedError('detached');
    try {
      await drain();
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING' && execution.status !== 'PENDING_REDRIVE') {
        await drain();
        return execution;
      }
    } catch (error) {
      throw explainAwsError(error, `follow execution ${executionArn}`, options.region);
    }
    if (options.now() >= deadline) {
      throw new GameDayCliError(
        `Stopped following after ${Math.round(options.maxWaitMs / 60_000)} min; the execution ` +
          `goes on and restores by itself: ${executionArn}`,
      );
    }
    try {
      await options.sleep(options.pollMs, options.signal);
    } catch {
      throw new DetachedError('detached');
    }
  }
}
