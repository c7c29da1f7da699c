/**
 * The one retry helper: bounded attempts separated by exponential backoff with full jitter.
 * Used wherever a racing writer must try again (git pushes rejected by a concurrent push).
 */

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

export interface RetryPolicy {
  /** Attempts in total, including the first (default 5, at least 1). */
  maxAttempts?: number;
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The push retry bounds of the GitOps options (defaults: 5 attempts, 250 ms base, 4 s cap). */
export function pushRetryPolicy(
  git: { maxAttempts?: number; retryBaseMs?: number; retryMaxMs?: number } | undefined,
  random?: () => number,
): RetryPolicy {
  return { maxAttempts: git?.maxAttempts, baseMs: git?.retryBaseMs, maxMs: git?.retryMaxMs, random };
}

/** What one attempt came to: a value, or a failure that may be worth another attempt. */
export type AttemptResult<T> =
  | { done: true; value: T }
  | {
      done: false;
      retryable: boolean;
      /** A short word for the log line (e.g. the push outcome's kind). */
      reason: string;
      /** The error thrown when no attempt is left (or the failure is not retryable). */
      error: (attempts: number) => Error;
    };

/**
 * Run `attempt(1)`, `attempt(2)`, … until one is done, a failure is not retryable, or
 * `maxAttempts` is reached (then its `error` is thrown). Before each retry `onRetry` is told the
 * delay, then the helper sleeps it; the next attempt does its own re-preparation (fetch, re-plan).
 */
export async function retryWithJitter<T>(
  policy: RetryPolicy,
  attempt: (attempt: number) => Promise<AttemptResult<T>>,
  onRetry?: (failed: { attempt: number; delayMs: number; reason: string }) => void,
): Promise<T> {
  const maxAttempts = Math.max(1, policy.maxAttempts ?? 5);
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    if (result.done) return result.value;
    if (!result.retryable || n >= maxAttempts) throw result.error(n);
    const delayMs = jitteredDelay(n, policy.baseMs ?? 250, policy.maxMs ?? 4000, policy.random);
    onRetry?.({ attempt: n, delayMs, reason: result.reason });
    await (policy.sleep ?? sleep)(delayMs);
  }
}
