import type { Clock, WorkloadFailure, WorkloadWatch } from './types';

/**
 * Asks the workload's runtime, every `watch.intervalMs` while readiness waits, whether it is
 * failing (crash loop, exit, image missing, OOM kill). Resolves with the first failure, or with
 * undefined once `stopped()` says the readiness wait is over. A watch that throws (the runtime is
 * briefly unreachable) is logged once and asked again: it never decides the verdict by erroring.
 */
export async function watchForFailure(
  watch: WorkloadWatch,
  clock: Clock,
  stopped: () => boolean,
  log: (line: string) => void,
): Promise<WorkloadFailure | undefined> {
  let complained = false;
  while (!stopped()) {
    try {
      const failure = await watch.failing();
      if (failure) return failure;
    } catch (error) {
      if (!complained) log(`  workload health: could not ask (${(error as Error).message}); readiness decides`);
      complained = true;
    }
    if (stopped()) return undefined;
    await clock.sleep(watch.intervalMs);
  }
  return undefined;
}

/** "exited 1, restarted 3 times" plus the log tail, for the console. */
export function describeWorkloadFailure(failure: WorkloadFailure): string[] {
  return [
    `workload failing: ${failure.reason}`,
    ...(failure.logTail.length
      ? [`last ${failure.logTail.length} log line${failure.logTail.length === 1 ? '' : 's'}:`, ...failure.logTail]
      : ['no log lines']),
  ];
}
