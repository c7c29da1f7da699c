/**
 * The cluster adapter: how an environment's manifests become running services. One per mode:
 * podman (this machine), kubectl (any cluster), gitops (Argo CD applies; we only wait).
 */
export interface ApplyRequest {
  /** Absolute path of the environment's overlay in the GitOps working copy (podman, kubectl). */
  overlayDir?: string;
  /** Projects to (re)deploy. */
  projects: string[];
  /** The GitOps commit that holds the references (gitops: what Argo CD must sync). */
  commit?: string;
  log: (line: string) => void;
}

export interface ApplyResult {
  /** One line per project or step, for the console. */
  notes: string[];
}

export interface WorkloadStatus {
  project: string;
  /** running / exited / missing / … as the runtime says. */
  state: string;
  /** Image reference the workload runs. */
  image?: string;
  /** Whether it matches the current manifests. */
  current?: boolean;
  detail?: string;
}

/**
 * A workload's health while a release waits for it: enough to stop the wait early and say why.
 * `failing` means it will not become ready without a change (crash loop, image missing, OOM kill,
 * config error), so waiting out the readiness timeout would only delay the verdict.
 */
export interface WorkloadHealth {
  project: string;
  phase: 'starting' | 'ready' | 'failing';
  /** One line a person reads: "exited 1, restarted 3 times", "image not found in the registry". */
  reason?: string;
  restarts?: number;
  exitCode?: number;
  oomKilled?: boolean;
  /** The failing container's last log lines (at most 30); callers redact before printing. */
  logTail?: string[];
  /** Recent warning events about the failing workload, `Reason: message`, oldest first. */
  events?: string[];
}

/** Lines of a failing container's log an adapter returns in `WorkloadHealth.logTail`. */
export const WORKLOAD_LOG_TAIL_LINES = 30;

export interface ClusterAdapter {
  readonly name: string;
  /** Before a release does anything: the cluster is reachable as configured, else a ClusterError with the fix. */
  preflight?(): Promise<void>;
  apply(request: ApplyRequest): Promise<ApplyResult>;
  /**
   * Projects whose running workload does not match the manifests (missing, stopped, older spec):
   * a deploy re-applies them even when no reference changed. Adapters that can not tell return [].
   */
  drift(overlayDir: string | undefined, projects: string[]): Promise<string[]>;
  status(overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]>;
  /** Health of each project's workload now. Adapters that can not tell leave this undefined. */
  health?(overlayDir: string | undefined, projects: string[]): Promise<WorkloadHealth[]>;
  /** Remove what this environment runs (podman); other adapters refuse. */
  down?(projects: string[]): Promise<string[]>;
  /** End what the adapter keeps running for the release (port-forwards); called once at the end. */
  close?(): Promise<void>;
}

export class ClusterError extends Error {}
