import { runProcess } from '../shared/process';
import { sleep } from '../shared/retry';
import type { ProcessRunner } from '../shared/process';
import { ClusterError, type ApplyRequest, type ApplyResult, type ClusterAdapter, type WorkloadStatus } from './types';

/**
 * GitOps environments: the push of the bump commit is the apply; Argo CD syncs it. When the argocd
 * CLI and its credentials (ARGOCD_SERVER + ARGOCD_AUTH_TOKEN) are present, wait until the
 * application reports the pushed revision Synced and Healthy — `argocd app wait` alone can pass on
 * the previous revision, so the revision is compared. Without them, the smoke version gate is the
 * wait (it polls /health until the new version answers).
 */
export interface GitOpsWaitOptions {
  app: string;
  timeoutSeconds: number;
  env?: NodeJS.ProcessEnv;
  run?: ProcessRunner;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  pollMs?: number;
}

interface ArgoApp {
  status?: {
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string };
    operationState?: { phase?: string; message?: string };
  };
}

export function argocdVerdict(app: ArgoApp, commit: string): { done: boolean; failed?: string; state: string } {
  const sync = app.status?.sync;
  const revisions = [sync?.revision, ...(sync?.revisions ?? [])].filter((r): r is string => !!r);
  const onRevision = revisions.some((r) => r === commit || (r.length >= 7 && commit.startsWith(r)));
  const health = app.status?.health?.status ?? 'Unknown';
  const state = `sync ${sync?.status ?? 'Unknown'} at ${revisions[0]?.slice(0, 12) ?? '?'}, health ${health}`;
  const phase = app.status?.operationState?.phase;
  if (onRevision && (phase === 'Failed' || phase === 'Error'))
    return {
      done: true,
      failed: `sync of ${commit.slice(0, 12)} ${phase}: ${app.status?.operationState?.message ?? ''}`.trim(),
      state,
    };
  if (onRevision && health === 'Degraded')
    return {
      done: true,
      failed: `application is Degraded on ${commit.slice(0, 12)}`,
      state,
    };
  return {
    done: onRevision && sync?.status === 'Synced' && health === 'Healthy',
    state,
  };
}

export class GitOpsCluster implements ClusterAdapter {
  readonly name = 'gitops';
  private readonly run: ProcessRunner;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: GitOpsWaitOptions) {
    this.run = options.run ?? runProcess;
    this.env = options.env ?? process.env;
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
    if (!request.commit) return { notes: ['no new commit: nothing for Argo CD to sync'] };
    if (!(await this.argocdAvailable())) {
      return {
        notes: [
          `pushed ${request.commit.slice(0, 12)}; no argocd CLI/credentials here (ARGOCD_SERVER, ARGOCD_AUTH_TOKEN): the smoke version gate waits for the new version`,
        ],
      };
    }
    const now = this.options.now ?? Date.now;
    const pause = this.options.sleep ?? sleep;
    const deadline = now() + this.options.timeoutSeconds * 1000;
    const token = this.env['ARGOCD_AUTH_TOKEN'] as string;
    let last = '';
    request.log(
      `waiting for Argo CD application ${this.options.app} to sync ${request.commit.slice(0, 12)} (up to ${this.options.timeoutSeconds} s)`,
    );
    for (let attempt = 0; ; attempt++) {
      const r = await this.run('argocd', ['app', 'get', this.options.app, '--refresh', '-o', 'json'], {
        timeoutMs: 120_000,
        env: this.env,
        secrets: [token],
      });
      if (r.code !== 0) throw new ClusterError(`argocd app get ${this.options.app} failed: ${r.stderr.trim()}`);
      const verdict = argocdVerdict(JSON.parse(r.stdout) as ArgoApp, request.commit);
      last = verdict.state;
      if (verdict.failed) throw new ClusterError(`Argo CD: ${verdict.failed}`);
      if (verdict.done) return { notes: [`Argo CD ${this.options.app}: ${verdict.state}`] };
      if (now() >= deadline)
        throw new ClusterError(
          `Argo CD application ${this.options.app} did not sync ${request.commit.slice(0, 12)} within ${this.options.timeoutSeconds} s (last: ${last})`,
        );
      await pause(Math.min(this.options.pollMs ?? 5000, Math.max(1, deadline - now())));
    }
  }

  async drift(): Promise<string[]> {
    return [];
  }

  async status(_overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    return projects.map((project) => ({
      project,
      state: 'managed by Argo CD',
      detail: this.options.app,
    }));
  }
}
