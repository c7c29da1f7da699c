import { jitteredDelay } from './retry';

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
