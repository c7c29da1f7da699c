/**
 * Durations per release stage. Stages run in sequence; one name may run twice (e.g. `apply` during a
 * rollback is recorded as `rollback-apply` by the caller), and the times add up.
 */
export class StageTimer {
  readonly stages: Record<string, number> = {};

  constructor(private readonly now: () => number = () => performance.now()) {}

  async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
    const started = this.now();
    try {
      return await fn();
    } finally {
      this.stages[stage] = Math.round((this.stages[stage] ?? 0) + this.now() - started);
    }
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}
