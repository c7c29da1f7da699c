import { WORKLOAD_LOG_TAIL_LINES, type ClusterAdapter, type WorkloadHealth } from '../cluster/types';
import { redactCredentials } from '../shared/redact';
import type { WorkloadFailure, WorkloadWatch } from '../smoke/types';

/**
 * How often a release asks the cluster about a workload while readiness waits: each question costs
 * the adapter a few CLI calls (podman: pod ps + inspect), which a two-core machine starting the
 * service feels, so not every second. A crash is still seen within seconds.
 */
export const HEALTH_INTERVAL_MS = 2000;

/** Names of environment variables whose values must never appear in a log tail we print. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_?KEY|AUTH/i;

/** Values of this process's secret-looking variables (short values would redact ordinary words). */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === 'string' && value.length >= 6)
    .map(([, value]) => value as string);
}

/** A failing WorkloadHealth as the smoke report records it: reason, figures, redacted log tail. */
export function toWorkloadFailure(health: WorkloadHealth, secrets: readonly string[]): WorkloadFailure {
  return {
    reason: redactCredentials(health.reason ?? 'failing (the runtime gave no reason)', secrets),
    ...(health.restarts !== undefined ? { restarts: health.restarts } : {}),
    ...(health.exitCode !== undefined ? { exitCode: health.exitCode } : {}),
    ...(health.oomKilled !== undefined ? { oomKilled: health.oomKilled } : {}),
    logTail: (health.logTail ?? []).slice(-WORKLOAD_LOG_TAIL_LINES).map((line) => redactCredentials(line, secrets)),
  };
}

/**
 * The smoke run's view of one project's workload: asks `cluster.health` for that project and
 * reports a failure only when the adapter says `failing`. Undefined when the adapter cannot tell.
 */
export function workloadWatch(
  cluster: ClusterAdapter,
  overlayDir: () => string | undefined,
  project: string,
  env: NodeJS.ProcessEnv,
  intervalMs = HEALTH_INTERVAL_MS,
): WorkloadWatch | undefined {
  if (!cluster.health) return undefined;
  const health = cluster.health.bind(cluster);
  const secrets = secretValues(env);
  return {
    intervalMs,
    async failing() {
      const found = (await health(overlayDir(), [project])).find((h) => h.project === project);
      return found?.phase === 'failing' ? toWorkloadFailure(found, secrets) : undefined;
    },
  };
}
