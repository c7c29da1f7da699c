/**
 * Bounded exponential backoff with full jitter: attempt n waits a random time in
 * [0, min(maxMs, baseMs * 2^(n-1))]. Jitter spreads racing writers apart so they stop colliding.
 */
export function jitteredDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
