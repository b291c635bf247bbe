// cockatiel 3.2.1's isTaskCancelledError() looks for the wrong marker and is always false.
import { TaskCancelledError } from 'cockatiel';

import {
  callWithDeadline,
  classifyCacheFailure,
  type Done,
} from '../../service/src/cache/memcached-cache';

/** What the outcome heard: the error, or null and the value. */
type Heard = [Error | null, string | undefined];

/** A call that keeps its `done` so the test can answer it later (or never). */
function heldCall(): { start: (done: Done<string>) => void; answer: Done<string> } {
  const held: { done?: Done<string> } = {};
  return {
    start: (done) => {
      held.done = done;
    },
    answer: (error, value) => held.done?.(error, value),
  };
}

/** Each outcome heard, in order; the promise settles with what the outcome returned. */
function recorder(heard: Heard[]) {
  return (error: Error | null, value: string | undefined): string => {
    heard.push([error, value]);
    return error ? 'failed' : `ok:${value}`;
  };
}

describe('callWithDeadline (the per-call memcached timeout)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a call that answers in time settles with its value and leaves no timer behind', async () => {
    // GIVEN a call that answers at once
    const heard: Heard[] = [];
    // WHEN it runs under a 100 ms deadline
    const result = await callWithDeadline<string, string>(
      (done) => done(null, 'hit'),
      100,
      recorder(heard),
    );
    // THEN the outcome heard the value, and no timer is left
    expect(heard).toEqual([[null, 'hit']]);
    expect(result).toBe('ok:hit');
    expect(jest.getTimerCount()).toBe(0);
  });

  test('fault: black hole (the call never answers): the outcome hears cockatiel’s TaskCancelledError at the timeout, which counts as unknown', async () => {
    // GIVEN a call that never answers
    const heard: Heard[] = [];
    const pending = callWithDeadline<string, string>(() => undefined, 100, recorder(heard));

    // WHEN the timeout passes
    await jest.advanceTimersByTimeAsync(99);
    expect(heard).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);

    // THEN the caller stops waiting with cockatiel's TaskCancelledError
    expect(await pending).toBe('failed');
    expect(heard).toHaveLength(1);
    const [error] = heard[0];
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect(error?.message).toBe('Operation timed out after 100ms');
    expect(classifyCacheFailure(error)).toBe('unknown');
  });

  test('fault: connection refused: the call’s own error comes through unchanged, and the timer is cleared', async () => {
    // GIVEN a call refused by the node
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const heard: Heard[] = [];
    // WHEN it runs
    await callWithDeadline<string, string>((done) => done(refused), 100, recorder(heard));
    // THEN the outcome heard that very error, and no timer is left
    expect(heard).toEqual([[refused, undefined]]);
    expect(jest.getTimerCount()).toBe(0);
    expect(classifyCacheFailure(refused)).toBe('failed-before-send');
  });

  test('a call that throws as it starts is a failed call, not an exception, and leaves no timer', async () => {
    const broken = new Error('socket write after end');
    const heard: Heard[] = [];
    await callWithDeadline<string, string>(
      () => {
        throw broken;
      },
      100,
      recorder(heard),
    );
    expect(heard).toEqual([[broken, undefined]]);
    expect(jest.getTimerCount()).toBe(0);
  });

  test('fault: an answer just after the timeout does not undo the timeout, and is not heard', async () => {
    // GIVEN a call that answers only after its timeout
    const call = heldCall();
    const heard: Heard[] = [];
    const pending = callWithDeadline(call.start, 100, recorder(heard));
    // WHEN the timeout passes and then the answer arrives
    await jest.advanceTimersByTimeAsync(100);
    call.answer(null, 'too late');
    // THEN only the timeout was heard
    expect(await pending).toBe('failed');
    expect(heard).toHaveLength(1);
    expect(heard[0][0]).toBeInstanceOf(TaskCancelledError);
  });

  test('the outcome hears only the first of an error and a later answer (memjs reports a reset, then a stale response)', async () => {
    const call = heldCall();
    const heard: Heard[] = [];
    const pending = callWithDeadline(call.start, 100, recorder(heard));
    const reset = new Error('read ECONNRESET');
    call.answer(reset);
    call.answer(null, 'stale');
    await jest.advanceTimersByTimeAsync(100);
    expect(await pending).toBe('failed');
    expect(heard).toEqual([[reset, undefined]]);
  });

  test('an outcome that throws rejects the call’s promise instead of throwing into memjs or the timer', async () => {
    const call = heldCall();
    const pending = callWithDeadline(call.start, 100, () => {
      throw new Error('metrics sink broken');
    });
    expect(() => call.answer(null, 'hit')).not.toThrow();
    await expect(pending).rejects.toThrow('metrics sink broken');
  });
});
