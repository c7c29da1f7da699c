import type { WorkloadHealth } from './types';

/**
 * A Deployment's health from what the API server says about it (`kubectl get deploy,rs,pods -o json`
 * and the namespace's events): pure, so it is tested on outputs recorded from a real cluster.
 *
 * Only the pods of the Deployment's current revision count (an old pod that still runs while a new
 * one crash-loops is the rollout working as designed). `failing` means the revision will not become
 * ready without a change, so a wait can stop now and say why:
 *   - a container waiting with a reason that does not clear by itself (CrashLoopBackOff,
 *     ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ...);
 *   - a container that exited non-zero after a restart, or was OOM-killed;
 *   - a running container whose readiness probe keeps failing after its startup succeeded;
 *   - a pod the scheduler can not place.
 */

export interface K8sMeta {
  name?: string;
  namespace?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind?: string; name?: string }[];
  creationTimestamp?: string;
}

export interface K8sContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt?: string };
  terminated?: { reason?: string; message?: string; exitCode?: number; finishedAt?: string };
}

export interface K8sContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  image?: string;
  state?: K8sContainerState;
  lastState?: K8sContainerState;
}

export interface K8sItem {
  kind?: string;
  metadata?: K8sMeta;
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: { name: string; image?: string }[] } };
    containers?: { name: string; image?: string }[];
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
    phase?: string;
    reason?: string;
    message?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: K8sContainerStatus[];
    initContainerStatuses?: K8sContainerStatus[];
  };
}

export interface K8sEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  involvedObject?: { kind?: string; name?: string };
  lastTimestamp?: string;
  eventTime?: string;
  series?: { count?: number };
  metadata?: { creationTimestamp?: string };
}

/** Waiting reasons that do not clear without a change to the release. */
export const FAILING_WAIT_REASONS = [
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
] as const;

/**
 * Readiness probe failures (after the container started) that make a never-ready pod `failing`: a
 * minute at the services' 5 s probe period. Fewer would fail a service whose readiness waits for its
 * dependencies (web for catalog and orders, which open their database first) on a loaded machine.
 */
export const READINESS_FAILURES_BEFORE_FAILING = 12;

export interface PodHealthInput {
  project: string;
  /** Items of `kubectl get deployment,replicaset,pod -l <selector> -o json`. */
  items: K8sItem[];
  /** Items of `kubectl get events -o json` in the namespace (any order). */
  events?: K8sEvent[];
}

/** The container whose logs explain a failure, for `kubectl logs` (previous: the run that ended). */
export interface FailingContainer {
  pod: string;
  container: string;
  previous: boolean;
}

export interface DeploymentHealth {
  health: WorkloadHealth;
  failing?: FailingContainer;
  /**
   * The failure is a readiness probe that keeps failing while the container runs. Such a service may
   * be waiting for another one of the same release (web for catalog and orders): a wait judges it
   * failing only once nothing else it deploys is still starting.
   */
  readinessOnly?: boolean;
}

const REVISION = 'deployment.kubernetes.io/revision';
const TEMPLATE_HASH = 'pod-template-hash';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Pods of the Deployment's current revision: owned by the ReplicaSet with the Deployment's revision. */
export function currentPods(deployment: K8sItem, items: K8sItem[]): K8sItem[] {
  const revision = deployment.metadata?.annotations?.[REVISION];
  const sets = items.filter(
    (i) =>
      i.kind === 'ReplicaSet' &&
      i.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === deployment.metadata?.name),
  );
  const current = revision
    ? sets.find((s) => s.metadata?.annotations?.[REVISION] === revision)
    : sets.sort(
        (a, b) => Number(b.metadata?.annotations?.[REVISION] ?? 0) - Number(a.metadata?.annotations?.[REVISION] ?? 0),
      )[0];
  const hash = current?.metadata?.labels?.[TEMPLATE_HASH];
  return items.filter(
    (i) =>
      i.kind === 'Pod' &&
      (hash
        ? i.metadata?.labels?.[TEMPLATE_HASH] === hash
        : i.metadata?.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && o.name === current?.metadata?.name)),
  );
}

/** Whether the Deployment's rollout is complete: every replica updated, available, and no old ones left. */
export function rolloutComplete(deployment: K8sItem): boolean {
  const want = deployment.spec?.replicas ?? 1;
  const s = deployment.status ?? {};
  return (
    (s.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 1) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}

function eventCount(e: K8sEvent): number {
  return e.series?.count ?? e.count ?? 1;
}

function eventTime(e: K8sEvent): string {
  return e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

/** Warning events about these pods, newest last, as `Reason: message` lines (at most `limit`). */
export function podEvents(events: K8sEvent[], pods: string[], limit = 5): string[] {
  return events
    .filter(
      (e) => e.type === 'Warning' && e.involvedObject?.kind === 'Pod' && pods.includes(e.involvedObject.name ?? ''),
    )
    .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
    .slice(-limit)
    .map(
      (e) => `${e.reason ?? 'Event'}: ${(e.message ?? '').trim()}${eventCount(e) > 1 ? ` (x${eventCount(e)})` : ''}`,
    );
}

function readinessFailures(events: K8sEvent[], pod: string): number {
  return events
    .filter(
      (e) =>
        e.involvedObject?.kind === 'Pod' &&
        e.involvedObject.name === pod &&
        e.reason === 'Unhealthy' &&
        /^Readiness probe failed/.test(e.message ?? ''),
    )
    .reduce((sum, e) => sum + eventCount(e), 0);
}

interface Verdict {
  reason: string;
  /** Only the readiness probe fails: the container runs (see DeploymentHealth.readinessOnly). */
  readinessOnly?: boolean;
  container?: K8sContainerStatus;
  previous?: boolean;
  exitCode?: number;
  oomKilled?: boolean;
}

function oneLine(text: string | undefined, max = 240): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function containerVerdict(status: K8sContainerStatus, pod: K8sItem, events: K8sEvent[]): Verdict | undefined {
  const restarts = status.restartCount ?? 0;
  const waiting = status.state?.waiting;
  const terminated = status.state?.terminated;
  const last = status.lastState?.terminated;
  const oom = terminated?.reason === 'OOMKilled' || last?.reason === 'OOMKilled';
  const ended = terminated ?? last;
  const exit = ended?.exitCode;
  const exitText = ended
    ? `${ended.reason === 'OOMKilled' ? 'OOM-killed (memory limit)' : `exited ${exit ?? '?'}${ended.reason && ended.reason !== 'Error' ? ` (${ended.reason})` : ''}`}`
    : '';
  if (waiting?.reason && (FAILING_WAIT_REASONS as readonly string[]).includes(waiting.reason)) {
    const detail =
      waiting.reason === 'CrashLoopBackOff'
        ? `${exitText || 'the container keeps exiting'}, ${plural(restarts, 'restart')}`
        : oneLine(waiting.message);
    return {
      reason: `${status.name}: ${waiting.reason}${detail ? `: ${detail}` : ''}`,
      container: status,
      previous: restarts > 0 && !!last,
      exitCode: exit,
      oomKilled: oom,
    };
  }
  if (oom && !status.ready) {
    return {
      reason: `${status.name}: OOMKilled: the container exceeded its memory limit, ${plural(restarts, 'restart')}`,
      container: status,
      previous: !terminated && !!last,
      exitCode: exit,
      oomKilled: true,
    };
  }
  if (terminated && (terminated.exitCode ?? 0) !== 0 && restarts >= 1) {
    return {
      reason: `${status.name}: ${exitText}, ${plural(restarts, 'restart')}`,
      container: status,
      previous: false,
      exitCode: terminated.exitCode,
    };
  }
  if (status.state?.running && status.started && !status.ready) {
    const failures = readinessFailures(events, pod.metadata?.name ?? '');
    if (failures >= READINESS_FAILURES_BEFORE_FAILING) {
      const last = events
        .filter((e) => e.involvedObject?.name === pod.metadata?.name && e.reason === 'Unhealthy')
        .sort((a, b) => eventTime(a).localeCompare(eventTime(b)))
        .pop();
      return {
        reason: `${status.name}: readiness probe failing (${plural(failures, 'failure')}): ${oneLine(last?.message)}`,
        container: status,
        previous: false,
        readinessOnly: true,
      };
    }
  }
  return undefined;
}

function podVerdict(pod: K8sItem, events: K8sEvent[]): Verdict | undefined {
  const unscheduled = pod.status?.conditions?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
  );
  if (unscheduled) return { reason: `unschedulable: ${oneLine(unscheduled.message)}` };
  if (pod.status?.phase === 'Failed') {
    return { reason: `pod failed: ${pod.status.reason ?? ''} ${oneLine(pod.status.message)}`.trim() };
  }
  for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const verdict = containerVerdict(status, pod, events);
    if (verdict) return verdict;
  }
  return undefined;
}

/** The health of one project's Deployment, and which container's logs explain a failure. */
export function deploymentHealth(input: PodHealthInput): DeploymentHealth {
  const { project, items } = input;
  const events = input.events ?? [];
  const deployment = items.find((i) => i.kind === 'Deployment');
  if (!deployment) {
    return { health: { project, phase: 'starting', reason: 'no Deployment yet' } };
  }
  const pods = currentPods(deployment, items);
  const restarts = Math.max(
    0,
    ...pods.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0)),
  );
  for (const pod of pods) {
    const verdict = podVerdict(pod, events);
    if (!verdict) continue;
    const podName = pod.metadata?.name ?? '?';
    const recent = podEvents(events, [podName]);
    return {
      health: {
        project,
        phase: 'failing',
        reason: `pod ${podName}: ${verdict.reason}`,
        restarts,
        ...(verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {}),
        ...(verdict.oomKilled ? { oomKilled: true } : {}),
        ...(recent.length > 0 ? { events: recent } : {}),
      },
      ...(verdict.container
        ? { failing: { pod: podName, container: verdict.container.name, previous: verdict.previous ?? false } }
        : {}),
      ...(verdict.readinessOnly ? { readinessOnly: true } : {}),
    };
  }
  if (rolloutComplete(deployment)) return { health: { project, phase: 'ready', restarts } };
  const s = deployment.status ?? {};
  const want = deployment.spec?.replicas ?? 1;
  return {
    health: {
      project,
      phase: 'starting',
      reason: `${s.updatedReplicas ?? 0}/${want} updated, ${s.availableReplicas ?? 0}/${want} available${(s.replicas ?? 0) > want ? `, ${(s.replicas ?? 0) - want} old still running` : ''}`,
      restarts,
    },
  };
}

/** The last `max` lines of a log, without a trailing empty line. */
export function logTail(text: string, max = 30): string[] {
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.length === 1 && lines[0] === '' ? [] : lines.slice(-max);
}
