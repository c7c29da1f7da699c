import type { BackoffOptions, Clock } from './types';

/** Delay after the attempt with this zero-based index: initial × factor^attempt, capped at maxDelayMs. */
export function backoffDelay(
  attempt: number,
  options: Pick<BackoffOptions, 'initialDelayMs' | 'factor' | 'maxDelayMs'>,
): number {
  const raw = options.initialDelayMs * Math.pow(options.factor, attempt);
  return Math.min(options.maxDelayMs, Math.round(raw));
}

/**
 * Start offsets (ms from the first attempt) of every attempt within the timeout, assuming attempts
 * take no time. The last delay is clipped so that one final attempt lands exactly on the deadline:
 * a service that becomes ready just before the timeout still gets its chance.
 */
export function backoffSchedule(options: BackoffOptions): number[] {
  const offsets = [0];
  let elapsed = 0;
  for (let attempt = 0; elapsed < options.timeoutMs; attempt += 1) {
    elapsed = Math.min(options.timeoutMs, elapsed + backoffDelay(attempt, options));
    offsets.push(elapsed);
  }
  return offsets;
}

export interface PollAttempt<T> {
  done: boolean;
  value: T;
}

export interface PollResult<T> {
  /** True when an attempt reported done before the deadline. */
  done: boolean;
  attempts: T[];
  elapsedMs: number;
}

/** Smallest request timeout given to a last attempt, so it can still get an answer near the deadline. */
export const MIN_ATTEMPT_TIMEOUT_MS = 100;

/**
 * Calls `attempt` on the backoff schedule until it reports done or the timeout passes.
 * `attempt` receives the time left, to bound its own request. Bounded: every delay is ≥ initialDelayMs > 0.
 */
export async function pollWithBackoff<T>(
  clock: Clock,
  options: BackoffOptions,
  attempt: (remainingMs: number, index: number) => Promise<PollAttempt<T>>,
  /** Delay index to restart from after a success that needs confirming (see consecutive matches). */
  resetOn?: (value: T) => boolean,
): Promise<PollResult<T>> {
  const start = clock.now();
  const deadline = start + options.timeoutMs;
  const attempts: T[] = [];
  let delayIndex = 0;
  for (let index = 0; ; index += 1) {
    const remaining = Math.max(MIN_ATTEMPT_TIMEOUT_MS, deadline - clock.now());
    const result = await attempt(remaining, index);
    attempts.push(result.value);
    if (result.done) return { done: true, attempts, elapsedMs: clock.now() - start };
    const left = deadline - clock.now();
    if (left <= 0) return { done: false, attempts, elapsedMs: clock.now() - start };
    delayIndex = resetOn?.(result.value) ? 0 : delayIndex;
    await clock.sleep(Math.min(left, backoffDelay(delayIndex, options)));
    delayIndex += 1;
  }
}
