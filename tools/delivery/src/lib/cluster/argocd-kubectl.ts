import { stringify } from 'yaml';
import { runProcess, type ProcessRunner } from '../shared/process';
import type { ArgoApplication } from './argocd-application';
import { logTail, type K8sEvent, type K8sItem } from './pod-health';
import type { KubeObject } from '../manifests/kubernetes';
import { ClusterError } from './types';

/**
 * Argo CD through the Kubernetes API (kubectl), for installations without the argocd CLI or API
 * server (we run only the application controller and repo-server): Applications are read as custom
 * resources, a hard refresh is the `argocd.argoproj.io/refresh` annotation the controller acts on
 * and removes, and the pods behind a Degraded Deployment are read directly for their reasons and
 * logs. Every call names the kubeconfig and context it was given, never the user's default.
 */
export interface KubectlAccessOptions {
  kubeconfig?: string;
  context?: string;
  /** Namespace of the Argo CD installation (Applications live there). */
  argocdNamespace: string;
  run?: ProcessRunner;
  env?: NodeJS.ProcessEnv;
}

export const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';
export const FIELD_MANAGER = 'slipway-deploy';

export class KubectlAccess {
  private readonly run: ProcessRunner;

  constructor(readonly options: KubectlAccessOptions) {
    this.run = options.run ?? runProcess;
  }

  /** The kubectl arguments that pin the cluster (kubeconfig, context). */
  clusterArgs(): string[] {
    return [
      ...(this.options.kubeconfig ? ['--kubeconfig', this.options.kubeconfig] : []),
      ...(this.options.context ? ['--context', this.options.context] : []),
    ];
  }

  private where(): string {
    return `${this.options.kubeconfig ? `kubeconfig ${this.options.kubeconfig}` : 'the default kubeconfig'}${this.options.context ? ` (context ${this.options.context})` : ''}`;
  }

  async kubectl(args: string[], timeoutMs = 60_000, input?: string) {
    try {
      return await this.run('kubectl', [...this.clusterArgs(), ...args], {
        timeoutMs,
        input,
        env: this.options.env,
      });
    } catch (error) {
      throw new ClusterError(
        `kubectl is not installed (${(error as Error).message}): run bash tools/scripts/setup.sh or install kubectl`,
      );
    }
  }

  private async json<T>(args: string[], what: string): Promise<T> {
    const r = await this.kubectl([...args, '-o', 'json']);
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n')[0] ?? '';
      const hint = /connection refused|no such host|Unable to connect|i\/o timeout/i.test(why)
        ? ': the cluster does not answer — start it (bash tools/scripts/cluster.sh start) or check the kubeconfig'
        : '';
      throw new ClusterError(`could not read ${what} through ${this.where()}: ${why}${hint}`);
    }
    return JSON.parse(r.stdout) as T;
  }

  async application(name: string): Promise<ArgoApplication> {
    const r = await this.kubectl([
      'get',
      'applications.argoproj.io',
      name,
      '-n',
      this.options.argocdNamespace,
      '-o',
      'json',
    ]);
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n')[0] ?? '';
      if (/NotFound|not found/.test(why))
        throw new ClusterError(
          `Argo CD application ${name} does not exist in namespace ${this.options.argocdNamespace} (${this.where()}): apply deploy/argocd, or start Argo CD with bash tools/scripts/argocd.sh start`,
        );
      if (/the server doesn't have a resource type|no matches for kind/i.test(why))
        throw new ClusterError(
          `the cluster of ${this.where()} has no Argo CD (no applications.argoproj.io): start it with bash tools/scripts/argocd.sh start`,
        );
      return this.json<ArgoApplication>(
        ['get', 'applications.argoproj.io', name, '-n', this.options.argocdNamespace],
        `application ${name}`,
      );
    }
    return JSON.parse(r.stdout) as ArgoApplication;
  }

  /** Ask the controller to compare with git now (hard: bypass the manifest cache) instead of at its next poll. */
  async refresh(name: string, kind: 'hard' | 'normal' = 'hard'): Promise<void> {
    const r = await this.kubectl([
      'annotate',
      'applications.argoproj.io',
      name,
      '-n',
      this.options.argocdNamespace,
      `${REFRESH_ANNOTATION}=${kind}`,
      '--overwrite',
    ]);
    if (r.code !== 0)
      throw new ClusterError(`could not request a refresh of Argo CD application ${name}: ${r.stderr.trim()}`);
  }

  /** Server-side apply with our field manager (AppProject and Application registration). */
  async apply(objects: KubeObject[]): Promise<string[]> {
    const yaml = objects.map((o) => stringify(o)).join('---\n');
    const r = await this.kubectl(
      ['apply', '--server-side', `--field-manager=${FIELD_MANAGER}`, '--force-conflicts', '-f', '-'],
      120_000,
      yaml,
    );
    if (r.code !== 0) throw new ClusterError(`kubectl apply of the Argo CD objects failed: ${r.stderr.trim()}`);
    return r.stdout.trim().split('\n').filter(Boolean);
  }

  /** The Deployment, its ReplicaSets and pods (`kubectl get deployment,replicaset,pod -l <selector>`). */
  async workloadItems(namespace: string, selector: string): Promise<K8sItem[]> {
    const list = await this.json<{ items?: K8sItem[] }>(
      ['get', 'deployment,replicaset,pod', '-n', namespace, '-l', selector, '--request-timeout=20s'],
      `the pods of ${selector} in ${namespace}`,
    );
    return list.items ?? [];
  }

  /** The namespace's events ([] when they can not be read: they only add detail). */
  async events(namespace: string): Promise<K8sEvent[]> {
    const r = await this.kubectl(['get', 'events', '-n', namespace, '-o', 'json', '--request-timeout=20s']);
    return r.code === 0 ? ((JSON.parse(r.stdout) as { items?: K8sEvent[] }).items ?? []) : [];
  }

  /** The last `lines` log lines of a container (of its previous instance when it restarted); [] when none. */
  async logs(namespace: string, pod: string, container: string, previous: boolean, lines = 30): Promise<string[]> {
    const args = [
      'logs',
      pod,
      '-n',
      namespace,
      '-c',
      container,
      `--tail=${lines}`,
      ...(previous ? ['--previous'] : []),
    ];
    const r = await this.kubectl(args, 30_000);
    return r.code === 0 ? logTail(r.stdout, lines) : [];
  }

  /** Each Service of `namespace` labelled app.kubernetes.io/name=<project>: its name and first port. */
  async service(namespace: string, project: string): Promise<{ name: string; port: number } | undefined> {
    const list = await this.json<{
      items?: { metadata?: { name?: string }; spec?: { ports?: { port?: number }[] } }[];
    }>(['get', 'services', '-n', namespace, '-l', `app.kubernetes.io/name=${project}`], `the Service of ${project}`);
    const svc = list.items?.find((s) => s.metadata?.name && s.spec?.ports?.[0]?.port);
    return svc ? { name: svc.metadata?.name as string, port: svc.spec?.ports?.[0]?.port as number } : undefined;
  }
}
