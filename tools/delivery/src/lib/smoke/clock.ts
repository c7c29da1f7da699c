import { performance } from 'node:perf_hooks';
import type { Clock } from './types';

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
  isoNow: () => new Date().toISOString(),
};

/**
 * A clock whose sleeps return at once and advance time: backoff schedules and count/interval runs
 * can be asserted to the millisecond without waiting. `advance` lets fake adapters model latency.
 */
export class FakeClock implements Clock {
  private current = 0;
  readonly sleeps: number[] = [];
  constructor(private readonly epochMs = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += Math.max(0, ms);
  }

  advance(ms: number): void {
    this.current += ms;
  }

  isoNow(): string {
    return new Date(this.epochMs + this.current).toISOString();
  }
}
