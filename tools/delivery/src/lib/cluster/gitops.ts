import { runProcess, type ProcessRunner } from '../shared/process';
import { sleep } from '../shared/retry';
import { redactCredentials } from '../shared/redact';
import {
  applicationVerdict,
  managedDeployments,
  type ApplicationVerdict,
  type ArgoApplication,
} from './argocd-application';
import { KubectlAccess } from './argocd-kubectl';
import { localApplications, overlayNamespace } from './argocd-register';
import { deploymentHealth, type DeploymentHealth } from './pod-health';
import { PortForwards, type ForwardTarget } from './port-forward';
import { kustomizeBuild, parseObjects } from '../manifests/kubernetes';
import {
  ClusterError,
  type ApplyRequest,
  type ApplyResult,
  type ClusterAdapter,
  type WorkloadHealth,
  type WorkloadStatus,
} from './types';

/**
 * GitOps environments: the push of the bump commit is the apply; Argo CD syncs it. The release then
 * waits until the Application reports the pushed revision Synced and Healthy — "Synced" alone can
 * be the previous revision, so the revision is compared. Argo CD is reached one of two ways:
 *
 * - `cli`: the argocd CLI with ARGOCD_SERVER + ARGOCD_AUTH_TOKEN (a team's Argo CD API server).
 *   Without them, the smoke version gate is the wait (it polls /health until the new version answers).
 * - `kubectl`: the Application custom resources through the Kubernetes API (an installation with only
 *   the application controller and repo-server, like tools/scripts/argocd.sh's). A hard refresh is
 *   requested (annotation) so the wait does not sit out the controller's poll interval; the pods of
 *   the Application's Deployments are read while it progresses, so a crash loop or a missing image
 *   fails the release in seconds with Argo CD's own resource messages, the pods' reasons and their
 *   last log lines — not at the Deployment's progress deadline.
 */
export interface GitOpsWaitOptions {
  app: string;
  timeoutSeconds: number;
  env?: NodeJS.ProcessEnv;
  run?: ProcessRunner;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollMs?: number;
  access?: 'cli' | 'kubectl';
  kubeconfig?: string;
  kubeContext?: string;
  /** Namespace of the Argo CD installation (kubectl access). */
  argocdNamespace?: string;
  /**
   * kubectl access: register the project's AppProject and this environment's Application (from
   * deploy/argocd) pointing at this repository before waiting — a cluster that reads a GitOps
   * repository of this machine.
   */
  register?: { workspaceRoot: string; argocdDir: string; repoURL: string; branch: string; path: string };
  /** kubectl access: forward 127.0.0.1:<port> to each project's Service after every apply. */
  forwardPorts?: Record<string, number>;
}

/** A release's workloads that will not become ready without a change; apply throws it. */
export class WorkloadFailure extends ClusterError {
  constructor(
    message: string,
    readonly failing: WorkloadHealth[],
  ) {
    super(message);
  }
}

/** Kept for callers of the former name. */
export const argocdVerdict = applicationVerdict;

const LOG_LINES = 30;
/** pod-health.ts's wording for a running container whose readiness probe keeps failing. */
const READINESS_ONLY = /: readiness probe failing \(/;
/** The label every workload of a project carries (deploy/k8s/base), as render.ts's projectOf reads it. */
const PROJECT_LABEL = 'app.kubernetes.io/name';

export class GitOpsCluster implements ClusterAdapter {
  readonly name = 'gitops';
  private readonly run: ProcessRunner;
  private readonly env: NodeJS.ProcessEnv;
  private readonly kube: KubectlAccess | undefined;
  private readonly forwards: PortForwards | undefined;
  private registered = false;

  constructor(private readonly options: GitOpsWaitOptions) {
    this.run = options.run ?? runProcess;
    this.env = options.env ?? process.env;
    if (options.access === 'kubectl') {
      this.kube = new KubectlAccess({
        kubeconfig: options.kubeconfig,
        context: options.kubeContext,
        argocdNamespace: options.argocdNamespace ?? 'argocd',
        run: this.run,
        env: this.env,
      });
      if (options.forwardPorts && Object.keys(options.forwardPorts).length > 0)
        this.forwards = new PortForwards({ clusterArgs: this.kube.clusterArgs(), env: this.env });
    }
  }

  private get now(): () => number {
    return this.options.now ?? Date.now;
  }

  private sleep(ms: number): Promise<void> {
    return (this.options.sleep ?? sleep)(ms);
  }

  /** Whether the argocd CLI and credentials are here. */
  async argocdAvailable(): Promise<boolean> {
    if (!this.env['ARGOCD_SERVER'] || !this.env['ARGOCD_AUTH_TOKEN']) return false;
    try {
      const r = await this.run('argocd', ['version', '--client', '--short'], {
        timeoutMs: 30_000,
        env: this.env,
      });
      return r.code === 0;
    } catch {
      return false;
    }
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    if (this.kube) return this.applyThroughKubectl(this.kube, request);
    if (!request.commit) return { notes: ['no new commit: nothing for Argo CD to sync'] };
    if (!(await this.argocdAvailable())) {
      return {
        notes: [
          `pushed ${request.commit.slice(0, 12)}; no argocd CLI/credentials here (ARGOCD_SERVER, ARGOCD_AUTH_TOKEN): the smoke version gate waits for the new version`,
        ],
      };
    }
    const deadline = this.now() + this.options.timeoutSeconds * 1000;
    const token = this.env['ARGOCD_AUTH_TOKEN'] as string;
    let last = '';
    request.log(
      `waiting for Argo CD application ${this.options.app} to sync ${request.commit.slice(0, 12)} (up to ${this.options.timeoutSeconds} s)`,
    );
    for (;;) {
      const r = await this.run('argocd', ['app', 'get', this.options.app, '--refresh', '-o', 'json'], {
        timeoutMs: 120_000,
        env: this.env,
        secrets: [token],
      });
      if (r.code !== 0) throw new ClusterError(`argocd app get ${this.options.app} failed: ${r.stderr.trim()}`);
      const verdict = applicationVerdict(JSON.parse(r.stdout) as ArgoApplication, request.commit);
      last = verdict.state;
      if (verdict.failed)
        throw new ClusterError(
          `Argo CD: ${verdict.failed}${verdict.messages.length > 0 ? ` — ${verdict.messages.join('; ')}` : ''}`,
        );
      if (verdict.done) return { notes: [`Argo CD ${this.options.app}: ${verdict.state}`] };
      if (this.now() >= deadline)
        throw new ClusterError(
          `Argo CD application ${this.options.app} did not sync ${request.commit.slice(0, 12)} within ${this.options.timeoutSeconds} s (last: ${last})`,
        );
      await this.sleep(Math.min(this.options.pollMs ?? 5000, Math.max(1, deadline - this.now())));
    }
  }

  /** AppProject + Application pointing at the configured repository (idempotent server-side apply). */
  private async register(kube: KubectlAccess, overlayDir: string | undefined, log: (line: string) => void) {
    const register = this.options.register;
    if (!register || this.registered) return;
    if (!overlayDir) throw new ClusterError('registering the Argo CD application needs the overlay directory');
    const namespace = overlayNamespace(parseObjects(await kustomizeBuild(overlayDir, { run: this.run })));
    if (!namespace) throw new ClusterError(`the overlay ${overlayDir} renders no namespaced Deployment`);
    const argocd = parseObjects(
      await kustomizeBuild(`${register.workspaceRoot}/${register.argocdDir}`, { run: this.run }),
    );
    const objects = localApplications(argocd, {
      app: this.options.app,
      repoURL: register.repoURL,
      branch: register.branch,
      path: register.path,
      namespace,
      argocdNamespace: kube.options.argocdNamespace,
    });
    const applied = await kube.apply(objects);
    log(`Argo CD: ${applied.join('; ')} (source ${register.repoURL} ${register.branch} ${register.path})`);
    this.registered = true;
  }

  private async applyThroughKubectl(kube: KubectlAccess, request: ApplyRequest): Promise<ApplyResult> {
    const app = this.options.app;
    await this.register(kube, request.overlayDir, request.log);
    const commit = request.commit ?? (await this.currentRevision(kube));
    const short = commit.slice(0, 12);
    const started = this.now();
    const deadline = started + this.options.timeoutSeconds * 1000;
    await kube.refresh(app);
    let refreshedAt = this.now();
    request.log(
      `waiting for Argo CD application ${app} to be Synced at ${short} and Healthy (up to ${this.options.timeoutSeconds} s)`,
    );
    let lastState = '';
    for (;;) {
      const application = await kube.application(app);
      const verdict = applicationVerdict(application, commit);
      if (verdict.state !== lastState) {
        request.log(`Argo CD ${app}: ${verdict.state} (${((this.now() - started) / 1000).toFixed(1)} s)`);
        lastState = verdict.state;
      }
      if (verdict.done) break;
      // Pods are read once the commit is applied (Synced): earlier, the live template is the old one.
      const failing =
        verdict.onRevision && application.status?.sync?.status === 'Synced'
          ? (await this.diagnose(kube, application, request.projects)).filter((d) => d.health.phase === 'failing')
          : [];
      if (verdict.failed || failing.length > 0)
        throw await this.failure(kube, application, verdict, failing, commit, request.log);
      if (this.now() >= deadline)
        throw new ClusterError(
          `Argo CD application ${app} was not Synced at ${short} and Healthy within ${this.options.timeoutSeconds} s (last: ${verdict.state}${verdict.messages.length > 0 ? `; ${verdict.messages.join('; ')}` : ''})`,
        );
      // The controller drops the refresh annotation once it compared; ask again while it has not seen the commit.
      if (!verdict.onRevision && this.now() - refreshedAt >= 10_000) {
        await kube.refresh(app);
        refreshedAt = this.now();
      }
      await this.sleep(Math.min(this.options.pollMs ?? 1000, Math.max(1, deadline - this.now())));
    }
    const notes = [`Argo CD ${app}: Synced at ${short}, Healthy after ${((this.now() - started) / 1000).toFixed(1)} s`];
    request.log(notes[0] as string);
    if (this.forwards) notes.push(...(await this.forward(kube, await kube.application(app))));
    return { notes };
  }

  /** The revision Argo CD tracks now (no commit given: wait for what is there). */
  private async currentRevision(kube: KubectlAccess): Promise<string> {
    const app = await kube.application(this.options.app);
    const revision = app.status?.sync?.revision;
    if (!revision) throw new ClusterError(`Argo CD application ${this.options.app} has not compared any revision yet`);
    return revision;
  }

  private async forward(kube: KubectlAccess, app: ArgoApplication): Promise<string[]> {
    const ports = this.options.forwardPorts ?? {};
    const namespace = app.spec?.destination?.namespace;
    if (!namespace || !this.forwards) return [];
    const targets: ForwardTarget[] = [];
    for (const [project, localPort] of Object.entries(ports)) {
      const svc = await kube.service(namespace, project);
      if (svc) targets.push({ project, namespace, service: svc.name, port: svc.port, localPort });
    }
    await this.forwards.restart(targets);
    return targets.map((t) => `${t.project}: http://127.0.0.1:${t.localPort} → svc/${t.service}:${t.port}`);
  }

  /**
   * Each project's Deployment in the Application, judged from the pods of its current revision, and
   * Argo CD's own verdict on it (a Degraded Deployment fails even when its pods do not say why).
   */
  private async diagnose(kube: KubectlAccess, app: ArgoApplication, projects: string[]): Promise<DeploymentHealth[]> {
    const out: DeploymentHealth[] = [];
    const deployments = managedDeployments(app);
    for (const project of projects) {
      const d = deployments.find((x) => x.name === project);
      if (!d?.namespace) continue;
      const items = (await kube.workloadItems(d.namespace, `${PROJECT_LABEL}=${project}`)).filter(
        (i) => i.kind !== 'Deployment' || i.metadata?.name === d.name,
      );
      const result = deploymentHealth({ project, items, events: await kube.events(d.namespace) });
      // A running container that is not ready yet is still starting here: the services' readiness
      // depends on each other (web on catalog and orders, which Argo CD starts at the same time), so
      // failed probes alone do not fail the release; Argo CD's progress deadline and the wait's own
      // deadline bound them. Exits, restarts, image pulls and scheduling still fail it at once.
      if (result.health.phase === 'failing' && READINESS_ONLY.test(result.health.reason ?? ''))
        result.health = { ...result.health, phase: 'starting' };
      const argo = app.status?.resources?.find((r) => r.kind === 'Deployment' && r.name === d.name)?.health;
      if (argo?.status === 'Degraded' && result.health.phase !== 'failing')
        result.health = {
          ...result.health,
          phase: 'failing',
          reason: `Argo CD: Deployment ${d.name} Degraded: ${argo.message ?? ''}`.trim(),
        };
      out.push(result);
    }
    return out;
  }

  /** The failing container's last log lines (redacted: a crashing service may print its configuration). */
  private async withLogs(
    kube: KubectlAccess,
    result: DeploymentHealth,
    namespace: string | undefined,
  ): Promise<WorkloadHealth> {
    const { health, failing } = result;
    if (health.phase !== 'failing' || !failing || !namespace) return health;
    const lines = await kube.logs(namespace, failing.pod, failing.container, failing.previous, LOG_LINES);
    return lines.length > 0 ? { ...health, logTail: lines.map((l) => redactCredentials(l)) } : health;
  }

  private async failure(
    kube: KubectlAccess,
    app: ArgoApplication,
    verdict: ApplicationVerdict,
    failing: DeploymentHealth[],
    commit: string,
    log: (line: string) => void,
  ): Promise<WorkloadFailure> {
    const namespace = app.spec?.destination?.namespace;
    const health = await Promise.all(failing.map((f) => this.withLogs(kube, f, namespace)));
    for (const h of health) {
      if (h.events?.length) log(`${h.project}: events: ${h.events.join(' | ')}`);
      if (!h.logTail?.length) continue;
      log(`${h.project}: last ${h.logTail.length} log lines of the failing container:`);
      for (const line of h.logTail) log(`  | ${line}`);
    }
    const what =
      verdict.failed ??
      `${commit.slice(0, 12)} will not become Healthy: pods of its revision fail (Argo CD: ${app.status?.health?.status ?? 'Unknown'})`;
    const parts = [
      ...verdict.messages,
      ...health.map(
        (h) =>
          `${h.project}: ${h.reason ?? h.phase}${h.logTail?.length ? ` — last log line: ${h.logTail[h.logTail.length - 1]}` : ''}`,
      ),
    ];
    return new WorkloadFailure(
      `Argo CD ${this.options.app}: ${what}${parts.length > 0 ? ` — ${parts.join('; ')}` : ''}`,
      health.length > 0 ? health : [],
    );
  }

  async drift(): Promise<string[]> {
    return [];
  }

  async status(_overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    if (!this.kube)
      return projects.map((project) => ({
        project,
        state: 'managed by Argo CD',
        detail: this.options.app,
      }));
    const app = await this.kube.application(this.options.app);
    const revision = app.status?.sync?.revision?.slice(0, 12) ?? '?';
    const out: WorkloadStatus[] = [];
    for (const project of projects) {
      const r = app.status?.resources?.find((x) => x.kind === 'Deployment' && x.name === project);
      const live = r?.namespace
        ? (await this.kube.workloadItems(r.namespace, `${PROJECT_LABEL}=${project}`)).find(
            (i) => i.kind === 'Deployment' && i.metadata?.name === project,
          )
        : undefined;
      const image = live?.spec?.template?.spec?.containers?.[0]?.image;
      out.push({
        project,
        state: r ? `${r.status ?? '?'}, ${r.health?.status ?? '?'}` : 'not in the application',
        ...(image ? { image } : {}),
        detail: `${this.options.app} at ${revision}`,
      });
    }
    return out;
  }

  async health(_overlayDir: string | undefined, projects: string[]): Promise<WorkloadHealth[]> {
    const kube = this.kube;
    if (!kube)
      return projects.map((project) => ({
        project,
        phase: 'starting',
        reason: 'managed by Argo CD (no kubectl access)',
      }));
    const app = await kube.application(this.options.app);
    const diagnoses = await this.diagnose(kube, app, projects);
    const namespace = app.spec?.destination?.namespace;
    return Promise.all(
      projects.map(async (project) => {
        const d = diagnoses.find((x) => x.health.project === project);
        return d
          ? this.withLogs(kube, d, namespace)
          : { project, phase: 'starting' as const, reason: 'not in the application yet' };
      }),
    );
  }

  /** End the port-forwards this adapter started. */
  async close(): Promise<void> {
    await this.forwards?.close();
  }
}
