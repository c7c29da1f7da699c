import { jitteredDelay, retryWithJitter } from './retry';

describe('jitteredDelay', () => {
  it('grows exponentially, is capped, and is spread by jitter', () => {
    expect(jitteredDelay(1, 100, 1000, () => 0.999)).toBe(99);
    expect(jitteredDelay(3, 100, 1000, () => 0.999)).toBe(399);
    expect(jitteredDelay(10, 100, 1000, () => 0.999)).toBe(999);
    expect(jitteredDelay(3, 100, 1000, () => 0)).toBe(0);
    const spread = new Set(Array.from({ length: 50 }, () => jitteredDelay(4, 100, 10_000)));
    expect(spread.size).toBeGreaterThan(10);
  });
});

describe('retryWithJitter', () => {
  const noSleep = { sleep: async () => undefined, random: () => 0.5 };

  it('retries a retryable failure and returns the first value', async () => {
    const seen: number[] = [];
    const retried: string[] = [];
    const value = await retryWithJitter(
      { ...noSleep, maxAttempts: 5 },
      async (n) => {
        seen.push(n);
        return n < 3
          ? { done: false, retryable: true, reason: 'rejected', error: () => new Error('no') }
          : { done: true, value: `ok@${n}` };
      },
      (f) => retried.push(`${f.attempt}:${f.reason}`),
    );
    expect(value).toBe('ok@3');
    expect(seen).toEqual([1, 2, 3]);
    expect(retried).toEqual(['1:rejected', '2:rejected']);
  });

  it('stops at maxAttempts and throws the last failure with the attempt count', async () => {
    await expect(
      retryWithJitter({ ...noSleep, maxAttempts: 2 }, async () => ({
        done: false,
        retryable: true,
        reason: 'rejected',
        error: (n) => new Error(`gave up after ${n}`),
      })),
    ).rejects.toThrow('gave up after 2');
  });

  it('does not retry a failure that is not retryable', async () => {
    let calls = 0;
    await expect(
      retryWithJitter(noSleep, async () => {
        calls++;
        return { done: false, retryable: false, reason: 'auth', error: () => new Error('auth') };
      }),
    ).rejects.toThrow('auth');
    expect(calls).toBe(1);
  });
});
