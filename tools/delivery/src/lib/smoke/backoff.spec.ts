import { backoffDelay, backoffSchedule, pollWithBackoff } from './backoff';
import { FakeClock } from './clock';

const options = {
  initialDelayMs: 250,
  factor: 2,
  maxDelayMs: 2000,
  timeoutMs: 5000,
};

describe('backoff', () => {
  it('doubles from the initial delay and caps at maxDelayMs', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, options))).toEqual([250, 500, 1000, 2000, 2000, 2000]);
  });

  it('schedules attempts until the timeout, with a last attempt exactly at the deadline', () => {
    expect(backoffSchedule(options)).toEqual([0, 250, 750, 1750, 3750, 5000]);
  });

  it('makes one attempt when the timeout is 0', () => {
    expect(backoffSchedule({ ...options, timeoutMs: 0 })).toEqual([0]);
  });

  it('supports factor 1 (fixed interval)', () => {
    expect(
      backoffSchedule({
        initialDelayMs: 1000,
        factor: 1,
        maxDelayMs: 1000,
        timeoutMs: 3000,
      }),
    ).toEqual([0, 1000, 2000, 3000]);
  });

  it('polls on the schedule with a fake clock (attempts take no time)', async () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const result = await pollWithBackoff(clock, options, async () => {
      at.push(clock.now());
      return { done: false, value: clock.now() };
    });
    expect(at).toEqual(backoffSchedule(options));
    expect(result).toMatchObject({ done: false, elapsedMs: 5000 });
  });

  it('stops at the first done attempt', async () => {
    const clock = new FakeClock();
    const result = await pollWithBackoff(clock, options, async (_remaining, index) => ({
      done: index === 2,
      value: index,
    }));
    expect(result).toEqual({ done: true, attempts: [0, 1, 2], elapsedMs: 750 });
  });

  it('counts the time attempts take against the timeout and passes the time left', async () => {
    const clock = new FakeClock();
    const remaining: number[] = [];
    const result = await pollWithBackoff(clock, options, async (left) => {
      remaining.push(left);
      clock.advance(1000); // each attempt hangs for a second
      return { done: false, value: clock.now() };
    });
    // 0 → attempt (1 s) → wait 250 → attempt at 1250 (→2250) → wait 500 → 2750 (→3750) → wait 1000 → 4750 (→5750): over.
    expect(result.attempts).toEqual([1000, 2250, 3750, 5750]);
    expect(remaining).toEqual([5000, 3750, 2250, 250]);
  });

  it('gives a last attempt at least 100 ms even when the deadline is closer', async () => {
    const clock = new FakeClock();
    const remaining: number[] = [];
    await pollWithBackoff(clock, { ...options, timeoutMs: 260 }, async (left) => {
      remaining.push(left);
      return { done: false, value: 0 };
    });
    // attempts at 0, 250 and 260 (the deadline): 10 ms and 0 ms left are raised to 100 ms.
    expect(remaining).toEqual([260, 100, 100]);
  });

  it('restarts at the initial delay after a value that asks for it (confirmation polls)', async () => {
    const clock = new FakeClock();
    await pollWithBackoff(
      clock,
      { ...options, timeoutMs: 10_000 },
      async (_left, index) => ({ done: index === 5, value: index >= 3 }),
      (matched) => matched,
    );
    // delays: 250, 500, 1000 (misses), then matches restart at 250 each time
    expect(clock.sleeps).toEqual([250, 500, 1000, 250, 250]);
  });
});
