import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runProcess } from '../shared/process';
import { redactCredentials } from '../shared/redact';
import { deploymentHealth, logTail, rolloutComplete, type K8sEvent, type K8sItem } from './pod-health';
import type { ProcessRunner } from '../shared/process';
import { kustomizeBuild, parseObjects, type KubeObject } from '../manifests/kubernetes';
import { projectOf } from './render';
import {
  ClusterError,
  type ApplyRequest,
  type ApplyResult,
  type ClusterAdapter,
  type WorkloadHealth,
  type WorkloadStatus,
} from './types';

/**
 * Any cluster kubectl reaches (this machine's tools/scripts/cluster.sh, kind, a team's real one):
 * render the overlay, server-side apply it with our field manager, prune what the release removed
 * (objects carrying the overlay's app.kubernetes.io/instance label that it no longer renders), then
 * wait for each deployed project's rollout by reading its pods (lib/cluster/pod-health.ts), so a
 * crash loop, a missing image, an OOM kill or a readiness probe that keeps failing ends the wait at
 * once with the reason, the recent events and the container's last log lines — `kubectl rollout
 * status` alone notices none of these before the progress deadline.
 */
export interface KubectlClusterOptions {
  /** The environment's context; the kubeconfig must have it (checked before anything is applied). */
  context?: string;
  /** Kubeconfig file (default: kubectl's own: $KUBECONFIG, else ~/.kube/config). */
  kubeconfig?: string;
  /** The kubectl binary (default: `kubectl` on PATH). */
  kubectl?: string;
  rolloutTimeoutSeconds: number;
  fieldManager?: string;
  pollMs?: number;
  run?: ProcessRunner;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export const FIELD_MANAGER = 'slipway-deploy';
/** How long a readiness probe must keep failing after the release's other services are ready. */
export const READINESS_GRACE_MS = 30_000;
const INSTANCE_LABEL = 'app.kubernetes.io/instance';
/**
 * Kinds a release may remove objects of: namespaced, as `kubectl get` names them. Cluster-scoped
 * objects (the Namespace) are never pruned. kubectl's own `--prune` refuses server-side applied
 * objects (alpha), so the release prunes by label itself: what carries the overlay's instance label,
 * was applied by our field manager, and is no longer rendered.
 */
export const PRUNE_KINDS = [
  'configmaps',
  'services',
  'serviceaccounts',
  'deployments.apps',
  'poddisruptionbudgets.policy',
  'horizontalpodautoscalers.autoscaling',
  'networkpolicies.networking.k8s.io',
  'ingresses.networking.k8s.io',
] as const;

interface LiveObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; managedFields?: { manager?: string; operation?: string }[] };
}

/** `kind/name` of live objects our field manager applied that the rendered overlay no longer has. */
export function pruneCandidates(live: LiveObject[], rendered: KubeObject[], fieldManager: string): LiveObject[] {
  const key = (kind?: string, namespace?: string, name?: string) => `${kind}/${namespace ?? ''}/${name}`;
  const wanted = new Set(rendered.map((o) => key(o.kind, o.metadata?.namespace, o.metadata?.name)));
  return live.filter(
    (o) =>
      !wanted.has(key(o.kind, o.metadata?.namespace, o.metadata?.name)) &&
      (o.metadata?.managedFields ?? []).some((f) => f.manager === fieldManager && f.operation === 'Apply'),
  );
}

interface DeploymentRef {
  name: string;
  namespace?: string;
  selector: string;
}

/** Deployment name, namespace and label selector per project, from the rendered objects. */
export function deploymentRefs(objects: KubeObject[]): Map<string, DeploymentRef> {
  const out = new Map<string, DeploymentRef>();
  for (const o of objects) {
    if (o.kind !== 'Deployment' || !o.metadata?.name) continue;
    const project = projectOf(o);
    const match = ((o.spec?.['selector'] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ??
      {}) as Record<string, string>;
    if (project)
      out.set(project, {
        name: o.metadata.name,
        namespace: o.metadata.namespace,
        selector: Object.entries(match)
          .map(([k, v]) => `${k}=${v}`)
          .join(','),
      });
  }
  return out;
}

/** The one app.kubernetes.io/instance value every rendered object carries, if they agree. */
export function pruneInstance(objects: KubeObject[]): string | undefined {
  const values = new Set(objects.map((o) => o.metadata?.labels?.[INSTANCE_LABEL]));
  const [only] = [...values];
  return values.size === 1 && only ? only : undefined;
}

export class KubectlCluster implements ClusterAdapter {
  readonly name = 'kubectl';
  private readonly run: ProcessRunner;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: KubectlClusterOptions) {
    this.run = options.run ?? runProcess;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  private globalArgs(): string[] {
    return [
      ...(this.options.kubeconfig ? ['--kubeconfig', this.options.kubeconfig] : []),
      ...(this.options.context ? ['--context', this.options.context] : []),
    ];
  }

  private where(): string {
    return `${this.options.context ? `context ${this.options.context}` : 'the current context'} of ${this.options.kubeconfig ?? 'the default kubeconfig'}`;
  }

  private async kubectl(args: string[], timeoutMs: number) {
    const program = this.options.kubectl ?? 'kubectl';
    try {
      return await this.run(program, [...this.globalArgs(), ...args], { timeoutMs });
    } catch (error) {
      throw new ClusterError(
        `${program} could not be started (${(error as Error).message}): install kubectl (bash tools/scripts/setup.sh) or fix its path`,
      );
    }
  }

  /** The kubeconfig has the environment's context and its API server answers; otherwise say how to fix it. */
  async preflight(): Promise<void> {
    if (this.options.context) {
      const contexts = await this.kubectl(['config', 'get-contexts', '-o', 'name'], 30_000);
      const names = contexts.stdout
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      if (contexts.code !== 0 || !names.includes(this.options.context)) {
        throw new ClusterError(
          `the kubeconfig ${this.options.kubeconfig ?? '($KUBECONFIG or ~/.kube/config)'} has no context '${this.options.context}' (it has: ${names.join(', ') || 'none'}): point the environment at its cluster's kubeconfig, or set "kubeContext" in deploy/package.json to one of those`,
        );
      }
    }
    const ready = await this.kubectl(['get', '--raw', '/readyz', '--request-timeout=5s'], 20_000);
    if (ready.code !== 0) {
      throw new ClusterError(
        `the Kubernetes API server of ${this.where()} does not answer (${(ready.stderr || ready.stdout).trim().split('\n')[0]}): start it (on this machine: bash tools/scripts/cluster.sh start) and run the release again`,
      );
    }
  }

  private async render(overlayDir: string): Promise<{ yaml: string; objects: KubeObject[] }> {
    const yaml = await kustomizeBuild(overlayDir, { run: this.run });
    return { yaml, objects: parseObjects(yaml) };
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    if (!request.overlayDir)
      throw new ClusterError('kubectl mode needs the overlay directory of the GitOps working copy');
    const deadline = this.now() + this.options.rolloutTimeoutSeconds * 1000;
    const { yaml, objects } = await this.render(request.overlayDir);
    const deployments = deploymentRefs(objects);
    const missing = request.projects.filter((p) => !deployments.has(p));
    if (missing.length > 0) throw new ClusterError(`the overlay renders no Deployment for ${missing.join(', ')}`);
    await this.preflight();

    const instance = pruneInstance(objects);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-apply-'));
    const file = path.join(dir, 'rendered.yaml');
    let applied;
    try {
      await fs.writeFile(file, yaml);
      const args = [
        'apply',
        '--server-side',
        `--field-manager=${this.options.fieldManager ?? FIELD_MANAGER}`,
        '--force-conflicts',
        '-f',
        file,
      ];
      request.log(`kubectl apply --server-side of ${request.overlayDir} (${objects.length} objects)`);
      applied = await this.kubectl(args, 300_000);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    if (applied.code !== 0)
      throw new ClusterError(`kubectl apply of ${request.overlayDir} failed: ${applied.stderr.trim()}`);
    const notes = applied.stdout
      .trim()
      .split('\n')
      .filter((l) => l && !/ (serverside-applied|unchanged)$/.test(l));
    if (instance) notes.push(...(await this.prune(objects, instance, request.log)));

    const pending = new Set(request.projects);
    const last = new Map<string, WorkloadHealth>();
    // When each project became the last one still rolling out (see readinessOnly).
    const aloneSince = new Map<string, number>();
    for (;;) {
      for (const project of [...pending]) {
        const { health, readinessOnly } = await this.projectHealth(project, deployments.get(project) as DeploymentRef);
        last.set(project, health);
        if (health.phase === 'ready') {
          pending.delete(project);
          notes.push(`${project}: rolled out${health.restarts ? ` (${health.restarts} restarts)` : ''}`);
          request.log(`${project}: rolled out`);
        } else if (health.phase === 'failing') {
          if (!readinessOnly) throw new ClusterError(describeFailing(health));
          // A readiness probe failing is judged only once nothing else of the release still starts,
          // and only if it keeps failing for READINESS_GRACE_MS after that: earlier failures may have
          // been the wait for those other services.
          if (![...pending].some((p) => p !== project)) {
            const since = aloneSince.get(project) ?? this.now();
            aloneSince.set(project, since);
            if (this.now() - since >= READINESS_GRACE_MS) throw new ClusterError(describeFailing(health));
          }
        }
      }
      if (pending.size === 0) return { notes };
      if (this.now() >= deadline) {
        const [project] = [...pending];
        const ref = deployments.get(project) as DeploymentRef;
        throw new ClusterError(
          `rollout of ${project} (deployment/${ref.name}) did not finish within the deadline of ${this.options.rolloutTimeoutSeconds} s: ${last.get(project)?.reason ?? 'no status'}`,
        );
      }
      await this.sleep(this.options.pollMs ?? 1000);
    }
  }

  /** Delete what an earlier release applied under this instance label and this one no longer renders. */
  private async prune(objects: KubeObject[], instance: string, log: (line: string) => void): Promise<string[]> {
    const manager = this.options.fieldManager ?? FIELD_MANAGER;
    const namespaces = [...new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))];
    const pruned: string[] = [];
    for (const namespace of namespaces) {
      const listed = await this.kubectl(
        ['get', PRUNE_KINDS.join(','), '-n', namespace, '-l', `${INSTANCE_LABEL}=${instance}`, '-o', 'json'],
        60_000,
      );
      if (listed.code !== 0)
        throw new ClusterError(
          `listing ${INSTANCE_LABEL}=${instance} in ${namespace} for pruning failed: ${listed.stderr.trim()}`,
        );
      const live = ((JSON.parse(listed.stdout) as { items?: LiveObject[] }).items ?? []).map((o) => ({
        ...o,
        metadata: { ...o.metadata, namespace },
      }));
      for (const o of pruneCandidates(live, objects, manager)) {
        const ref = `${String(o.kind).toLowerCase()}/${o.metadata?.name}`;
        log(`prune ${ref} -n ${namespace} (no longer rendered)`);
        const deleted = await this.kubectl(
          ['delete', ref, '-n', namespace, '--ignore-not-found', '--wait=false'],
          60_000,
        );
        if (deleted.code !== 0)
          throw new ClusterError(`pruning ${ref} in ${namespace} failed: ${deleted.stderr.trim()}`);
        pruned.push(`pruned ${ref}`);
      }
    }
    return pruned;
  }

  private async projectHealth(
    project: string,
    ref: DeploymentRef,
  ): Promise<{ health: WorkloadHealth; readinessOnly: boolean }> {
    const ns = ref.namespace ? ['-n', ref.namespace] : [];
    const got = await this.kubectl(
      ['get', 'deployment,replicaset,pod', ...ns, '-l', ref.selector, '-o', 'json', '--request-timeout=20s'],
      60_000,
    );
    if (got.code !== 0) {
      throw new ClusterError(
        `reading the pods of ${project} from ${this.where()} failed (${got.stderr.trim().split('\n')[0]}): check that the cluster runs (bash tools/scripts/cluster.sh status) and run the release again`,
      );
    }
    const items = ((JSON.parse(got.stdout) as { items?: K8sItem[] }).items ?? []).filter(
      (i) => i.kind !== 'Deployment' || i.metadata?.name === ref.name,
    );
    const events = await this.kubectl(['get', 'events', ...ns, '-o', 'json', '--request-timeout=20s'], 60_000);
    const { health, failing, readinessOnly } = deploymentHealth({
      project,
      items,
      events: events.code === 0 ? ((JSON.parse(events.stdout) as { items?: K8sEvent[] }).items ?? []) : [],
    });
    if (failing) {
      const logs = await this.kubectl(
        ['logs', ...ns, failing.pod, '-c', failing.container, '--tail=30', ...(failing.previous ? ['--previous'] : [])],
        30_000,
      );
      const tail = logTail(logs.code === 0 ? logs.stdout : '');
      // A crashing service may print its configuration: URLs with credentials never reach a record.
      if (tail.length > 0) health.logTail = tail.map((line) => redactCredentials(line));
    }
    return { health, readinessOnly: readinessOnly === true };
  }

  async health(overlayDir: string | undefined, projects: string[]): Promise<WorkloadHealth[]> {
    if (!overlayDir) return projects.map((project) => ({ project, phase: 'starting', reason: 'no overlay' }));
    const deployments = deploymentRefs((await this.render(overlayDir)).objects);
    const out: WorkloadHealth[] = [];
    for (const project of projects) {
      const ref = deployments.get(project);
      out.push(
        ref
          ? (await this.projectHealth(project, ref)).health
          : { project, phase: 'starting', reason: 'not in overlay' },
      );
    }
    return out;
  }

  /**
   * Projects whose objects on the cluster differ from what the overlay renders (`kubectl diff
   * --server-side`: a cluster started afresh, a hand edit, a manifest change with no image change),
   * or whose rollout has not finished (an earlier release that failed without a rollback, an
   * interrupted one): the release applies and waits for them even when no reference moved.
   */
  async drift(overlayDir: string | undefined, projects: string[]): Promise<string[]> {
    if (!overlayDir) return [];
    try {
      return await this.driftOf(overlayDir, projects);
    } catch {
      // Not knowing is drift: the apply that follows runs inside the recorded part of the release,
      // so its error (cluster gone, namespace missing) is recorded and rolled back, never lost.
      return projects;
    }
  }

  private async driftOf(overlayDir: string, projects: string[]): Promise<string[]> {
    const { yaml, objects } = await this.render(overlayDir);
    const deployments = deploymentRefs(objects);
    // A namespace that does not exist yet (a cluster started afresh): everything in it is missing.
    for (const namespace of new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))) {
      const exists = await this.kubectl(['get', 'namespace', namespace, '-o', 'name'], 30_000);
      if (exists.code !== 0) return projects;
    }
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-diff-'));
    let diff;
    try {
      await fs.writeFile(path.join(dir, 'rendered.yaml'), yaml);
      diff = await this.kubectl(
        [
          'diff',
          '--server-side',
          `--field-manager=${this.options.fieldManager ?? FIELD_MANAGER}`,
          '--force-conflicts',
          '-f',
          path.join(dir, 'rendered.yaml'),
        ],
        120_000,
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    if (diff.code > 1) throw new ClusterError(`kubectl diff of ${overlayDir} failed: ${diff.stderr.trim()}`);
    const drifted = new Set(diff.code === 1 ? differingProjects(diff.stdout, objects, projects) : []);
    for (const project of projects) {
      const ref = deployments.get(project);
      if (!ref || drifted.has(project)) continue;
      const got = await this.kubectl(
        ['get', `deployment/${ref.name}`, ...(ref.namespace ? ['-n', ref.namespace] : []), '-o', 'json'],
        60_000,
      );
      if (got.code !== 0 || !rolloutComplete(JSON.parse(got.stdout) as K8sItem)) drifted.add(project);
    }
    return projects.filter((p) => drifted.has(p));
  }

  async status(overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    if (!overlayDir) return projects.map((project) => ({ project, state: 'unknown' }));
    const deployments = deploymentRefs((await this.render(overlayDir)).objects);
    const out: WorkloadStatus[] = [];
    for (const project of projects) {
      const d = deployments.get(project);
      if (!d) {
        out.push({ project, state: 'not in overlay' });
        continue;
      }
      const r = await this.kubectl(
        ['get', `deployment/${d.name}`, ...(d.namespace ? ['-n', d.namespace] : []), '-o', 'json'],
        60_000,
      );
      if (r.code !== 0) {
        out.push({
          project,
          state: 'unknown',
          detail: r.stderr.trim().split('\n')[0],
        });
        continue;
      }
      const json = JSON.parse(r.stdout) as {
        status?: { readyReplicas?: number; replicas?: number };
        spec?: { template?: { spec?: { containers?: { image?: string }[] } } };
      };
      out.push({
        project,
        state: `${json.status?.readyReplicas ?? 0}/${json.status?.replicas ?? 0} ready`,
        image: json.spec?.template?.spec?.containers?.[0]?.image,
      });
    }
    return out;
  }
}

/**
 * Projects whose objects `kubectl diff` reports (its `diff -u -N …/LIVE-…/<group.version.Kind.ns.name>
 * …/MERGED-…/<same>` headers). An object of no single project (the Namespace, the namespace-wide
 * NetworkPolicies) differing concerns them all.
 */
export function differingProjects(diffOutput: string, objects: KubeObject[], projects: string[]): string[] {
  const out = new Set<string>();
  for (const match of diffOutput.matchAll(/^diff -u -N \S+ \S+\/MERGED-[^/\s]+\/(\S+)$/gm)) {
    const id = match[1] as string;
    const object = objects.find((o) => {
      const version = String(o.apiVersion ?? '').replace('/', '.');
      return [version, o.kind, o.metadata?.namespace, o.metadata?.name].filter(Boolean).join('.') === id;
    });
    const project = object ? projectOf(object) : undefined;
    if (project && projects.includes(project)) out.add(project);
    else for (const p of projects) out.add(p);
  }
  return projects.filter((p) => out.has(p));
}

/** One message for a failing workload: the reason, the recent events and the last log lines. */
export function describeFailing(health: WorkloadHealth): string {
  const lines = [`${health.project} will not become ready: ${health.reason ?? 'failing'}`];
  if (health.events?.length) lines.push(`events: ${health.events.join(' | ')}`);
  if (health.logTail?.length) lines.push(`last log lines:\n    ${health.logTail.join('\n    ')}`);
  return lines.join('\n  ');
}
