// cockatiel 3.2.1's isTaskCancelledError() looks for the wrong marker and is always false.
import { TaskCancelledError } from 'cockatiel';

import { classifyCacheFailure, withDeadline } from '../../service/src/cache/memcached-cache';

describe('withDeadline (the per-call memcached timeout)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a call that answers in time resolves with its value and leaves no timer behind', async () => {
    // GIVEN / WHEN
    const value = await withDeadline(Promise.resolve('hit'), 100);
    // THEN
    expect(value).toBe('hit');
    expect(jest.getTimerCount()).toBe(0);
  });

  test('fault: black hole (the call never answers): it rejects at the timeout as cockatiel would, and counts as unknown', async () => {
    // GIVEN a call that never settles
    const pending = withDeadline(new Promise<never>(() => undefined), 100);
    const outcome = pending.then(
      () => 'resolved',
      (error: unknown) => error,
    );

    // WHEN the timeout passes
    await jest.advanceTimersByTimeAsync(100);

    // THEN the caller stops waiting with cockatiel's TaskCancelledError
    const error = await outcome;
    expect(error).toBeInstanceOf(TaskCancelledError);
    expect((error as Error).message).toBe('Operation timed out after 100ms');
    expect(classifyCacheFailure(error)).toBe('unknown');
  });

  test('fault: connection refused: the call’s own error comes through unchanged, and the timer is cleared', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    await expect(withDeadline(Promise.reject(refused), 100)).rejects.toBe(refused);
    expect(jest.getTimerCount()).toBe(0);
    expect(classifyCacheFailure(refused)).toBe('failed-before-send');
  });

  test('a call that answers just after its timeout does not undo the timeout', async () => {
    let answer: (value: string) => void = () => undefined;
    const late = withDeadline(
      new Promise<string>((resolve) => {
        answer = resolve;
      }),
      100,
    );
    const outcome = late.then(
      (value) => value,
      (error: unknown) => error,
    );
    await jest.advanceTimersByTimeAsync(100);
    answer('too late');
    expect(await outcome).toBeInstanceOf(TaskCancelledError);
  });

  test('settled hears once: true for a value, false for an error or the timeout, and nothing for an answer after the timeout', async () => {
    // GIVEN three calls: one answers, one fails, one answers only after its timeout
    const heard: Array<[string, boolean]> = [];
    const listen = (name: string) => (ok: boolean) => heard.push([name, ok]);
    let late: (value: string) => void = () => undefined;
    const answered = withDeadline(Promise.resolve('hit'), 100, listen('answered'));
    const failed = withDeadline(Promise.reject(new Error('reset')), 100, listen('failed'));
    const timedOut = withDeadline(
      new Promise<string>((resolve) => {
        late = resolve;
      }),
      100,
      listen('timed out'),
    ).catch((error: unknown) => error);
    await answered;
    await failed.catch(() => undefined);
    // WHEN the timeout passes and the late answer arrives
    await jest.advanceTimersByTimeAsync(100);
    late('too late');
    await timedOut;
    await Promise.resolve();
    // THEN each was heard once, with what its caller got
    expect(heard).toEqual([
      ['answered', true],
      ['failed', false],
      ['timed out', false],
    ]);
  });
});
