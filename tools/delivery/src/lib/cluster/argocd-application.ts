/**
 * Reading an Argo CD Application's status (argoproj.io/v1alpha1, as `kubectl get application -o json`
 * or `argocd app get -o json` return it): is the release's commit Synced and Healthy, has it failed,
 * and in Argo CD's own words why. Pure: the I/O is in argocd-kubectl.ts and gitops.ts.
 */
export interface ArgoResourceStatus {
  group?: string;
  version?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Synced / OutOfSync. */
  status?: string;
  /** Only present when the controller persists resource health (--persist-resource-health). */
  health?: { status?: string; message?: string };
}

export interface ArgoSyncResultResource {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  /** Synced / SyncFailed / Pruned / PruneSkipped. */
  status?: string;
  message?: string;
}

export interface ArgoApplication {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    source?: { repoURL?: string; path?: string; targetRevision?: string };
    destination?: { server?: string; namespace?: string };
  };
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    resources?: ArgoResourceStatus[];
    conditions?: { type?: string; message?: string }[];
    operationState?: {
      phase?: string;
      message?: string;
      operation?: { sync?: { revision?: string } };
      syncResult?: { revision?: string; resources?: ArgoSyncResultResource[] };
    };
    reconciledAt?: string;
  };
}

export interface ApplicationVerdict {
  /** Synced at the commit and Healthy. */
  done: boolean;
  /** Why it will not get there without a change (sync failed, Degraded at the commit). */
  failed?: string;
  /** One line for the console: `sync Synced at 1a2b3c4d5e6f, health Progressing`. */
  state: string;
  /** Whether Argo CD has compared the commit yet (sync.revision is it). */
  onRevision: boolean;
  /** Argo CD's own messages about what is wrong: unhealthy resources, failed sync steps, conditions. */
  messages: string[];
}

/** Condition types that stop a sync or a comparison (warnings such as SharedResourceWarning do not). */
const ERROR_CONDITIONS = new Set(['ComparisonError', 'SyncError', 'InvalidSpecError', 'UnknownError']);

/** A commit matches a revision Argo CD reports when they are equal or one is the other's prefix (≥ 7). */
export function sameRevision(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length >= 7 && long.startsWith(short);
}

function resourceName(r: { kind?: string; namespace?: string; name?: string }): string {
  return `${r.kind ?? '?'} ${r.namespace ? `${r.namespace}/` : ''}${r.name ?? '?'}`;
}

/**
 * Argo CD's explanations, most specific first: each resource that is not Healthy with its health
 * message, each resource the last sync failed to apply, then error conditions. De-duplicated.
 */
export function applicationMessages(app: ArgoApplication): string[] {
  const out: string[] = [];
  for (const r of app.status?.resources ?? []) {
    const health = r.health?.status;
    if (health && health !== 'Healthy')
      out.push(`${resourceName(r)}: ${health}${r.health?.message ? `: ${r.health.message}` : ''}`);
  }
  for (const r of app.status?.operationState?.syncResult?.resources ?? []) {
    if (r.status === 'SyncFailed') out.push(`${resourceName(r)}: sync failed: ${r.message ?? ''}`.trim());
  }
  for (const c of app.status?.conditions ?? []) {
    if (c.type && ERROR_CONDITIONS.has(c.type)) out.push(`${c.type}: ${c.message ?? ''}`.trim());
  }
  if (out.length === 0 && app.status?.health?.message && app.status.health.status !== 'Healthy')
    out.push(`${app.status.health.status}: ${app.status.health.message}`);
  return [...new Set(out)];
}

/** Where the Application stands with respect to `commit` (the release's GitOps commit). */
export function applicationVerdict(app: ArgoApplication, commit: string): ApplicationVerdict {
  const sync = app.status?.sync;
  const revisions = [sync?.revision, ...(sync?.revisions ?? [])].filter((r): r is string => !!r);
  const onRevision = revisions.some((r) => sameRevision(r, commit));
  const health = app.status?.health?.status ?? 'Unknown';
  const state = `sync ${sync?.status ?? 'Unknown'} at ${revisions[0]?.slice(0, 12) ?? '?'}, health ${health}`;
  const messages = applicationMessages(app);
  const operation = app.status?.operationState;
  const operationRevision = operation?.syncResult?.revision ?? operation?.operation?.sync?.revision;
  const short = commit.slice(0, 12);
  if (
    (operation?.phase === 'Failed' || operation?.phase === 'Error') &&
    (sameRevision(operationRevision, commit) || (onRevision && !operationRevision))
  ) {
    return {
      done: false,
      onRevision,
      state,
      messages,
      failed: `sync of ${short} ${operation.phase}: ${operation.message ?? ''}`.trim(),
    };
  }
  // Degraded counts once the commit is applied (Synced): before that, the health describes what ran
  // before it (e.g. the failed release a rollback is replacing).
  if (onRevision && sync?.status === 'Synced' && health === 'Degraded')
    return { done: false, onRevision, state, messages, failed: `application is Degraded on ${short}` };
  return { done: onRevision && sync?.status === 'Synced' && health === 'Healthy', onRevision, state, messages };
}

/** The Deployments the Application manages (what a release waits on), from status.resources. */
export function managedDeployments(app: ArgoApplication): { name: string; namespace?: string }[] {
  return (app.status?.resources ?? [])
    .filter((r) => r.kind === 'Deployment' && (r.group === 'apps' || r.group === undefined) && !!r.name)
    .map((r) => ({ name: r.name as string, namespace: r.namespace ?? app.spec?.destination?.namespace }));
}
