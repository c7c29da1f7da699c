import { runProcess } from '../shared/process';
import type { ProcessRunner } from '../shared/process';
import { kustomizeBuild, parseObjects } from '../manifests/kubernetes';
import { deploymentsByProject } from './render';
import { ClusterError, type ApplyRequest, type ApplyResult, type ClusterAdapter, type WorkloadStatus } from './types';

/**
 * Any cluster kubectl reaches (kind, k3d, a real one): `kubectl apply -k <overlay>`, then
 * `kubectl rollout status` of each deployed project's Deployment against one overall deadline.
 * Rollout status does not notice a crash loop by itself (kubectl#738); the smoke that follows does.
 */
export interface KubectlClusterOptions {
  context?: string;
  rolloutTimeoutSeconds: number;
  run?: ProcessRunner;
  now?: () => number;
}

export class KubectlCluster implements ClusterAdapter {
  readonly name = 'kubectl';
  private readonly run: ProcessRunner;
  private readonly now: () => number;

  constructor(private readonly options: KubectlClusterOptions) {
    this.run = options.run ?? runProcess;
    this.now = options.now ?? Date.now;
  }

  private contextArgs(): string[] {
    return this.options.context ? ['--context', this.options.context] : [];
  }

  private async kubectl(args: string[], timeoutMs: number) {
    try {
      return await this.run('kubectl', [...this.contextArgs(), ...args], {
        timeoutMs,
      });
    } catch (error) {
      throw new ClusterError(`kubectl is not installed (${(error as Error).message}): install kubectl`);
    }
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    if (!request.overlayDir)
      throw new ClusterError('kubectl mode needs the overlay directory of the GitOps working copy');
    const deadline = this.now() + this.options.rolloutTimeoutSeconds * 1000;
    const deployments = deploymentsByProject(parseObjects(await kustomizeBuild(request.overlayDir, { run: this.run })));
    const missing = request.projects.filter((p) => !deployments.has(p));
    if (missing.length > 0) throw new ClusterError(`the overlay renders no Deployment for ${missing.join(', ')}`);
    request.log(`kubectl apply -k ${request.overlayDir}`);
    const applied = await this.kubectl(['apply', '-k', request.overlayDir], 300_000);
    if (applied.code !== 0)
      throw new ClusterError(`kubectl apply -k ${request.overlayDir} failed: ${applied.stderr.trim()}`);
    const notes = applied.stdout.trim().split('\n').filter(Boolean);
    for (const project of request.projects) {
      const { name, namespace } = deployments.get(project) as {
        name: string;
        namespace?: string;
      };
      const left = Math.floor((deadline - this.now()) / 1000);
      if (left <= 0)
        throw new ClusterError(
          `rollout deadline of ${this.options.rolloutTimeoutSeconds} s passed before ${project} was checked`,
        );
      request.log(`kubectl rollout status deployment/${name} (${left} s left)`);
      const status = await this.kubectl(
        ['rollout', 'status', `deployment/${name}`, ...(namespace ? ['-n', namespace] : []), `--timeout=${left}s`],
        (left + 30) * 1000,
      );
      if (status.code !== 0) {
        throw new ClusterError(
          `rollout of ${project} (deployment/${name}) did not finish within the deadline: ${(status.stderr || status.stdout).trim()}`,
        );
      }
      notes.push(`${project}: ${status.stdout.trim().split('\n').pop() ?? 'rolled out'}`);
    }
    return { notes };
  }

  async drift(): Promise<string[]> {
    // kubectl apply is idempotent and the controller converges; a changed reference is the trigger.
    return [];
  }

  async status(overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    if (!overlayDir) return projects.map((project) => ({ project, state: 'unknown' }));
    const deployments = deploymentsByProject(parseObjects(await kustomizeBuild(overlayDir, { run: this.run })));
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
