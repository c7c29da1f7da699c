import type { KubeObject } from '../manifests/kubernetes';
import { ClusterError } from './types';

/**
 * The project's Argo CD objects (deploy/argocd: the `slipway` AppProject and one Application per
 * environment) pointed at another GitOps repository — a cluster on this machine reads the local
 * GitOps repository (`file://…/remote.git`) instead of the team's remote. Pure; the caller renders
 * deploy/argocd and applies the result.
 *
 * The environment's Application is deploy/argocd's own when one has its name; otherwise it is made
 * from the auto-syncing Application there (staging's: automated sync, prune, self-heal, retry),
 * renamed, with the environment's overlay path and namespace. The AppProject keeps its resource
 * whitelists and roles; its sourceRepos become the one repository and its destinations gain the
 * environment's namespace.
 */
export interface LocalApplicationOptions {
  /** Application name (the environment's `argocdApp`). */
  app: string;
  /** Where Argo CD reads the manifests: e.g. file:///abs/.local/deploy/cluster-gitops/remote.git */
  repoURL: string;
  branch: string;
  /** Overlay path inside that repository, e.g. deploy/k8s/overlays/cluster-gitops */
  path: string;
  /** Namespace the overlay deploys into. */
  namespace: string;
  /** Namespace of the Argo CD installation. */
  argocdNamespace: string;
  /** Cluster Argo CD deploys to (its own: https://kubernetes.default.svc). */
  server?: string;
}

type AppSpec = {
  project?: string;
  source?: Record<string, unknown>;
  destination?: { server?: string; namespace?: string };
  syncPolicy?: { automated?: unknown };
  [key: string]: unknown;
};

const IN_CLUSTER = 'https://kubernetes.default.svc';

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function localApplications(rendered: KubeObject[], options: LocalApplicationOptions): KubeObject[] {
  const server = options.server ?? IN_CLUSTER;
  const apps = rendered.filter((o) => o.kind === 'Application');
  const template =
    apps.find((a) => a.metadata?.name === options.app) ??
    apps.find((a) => (a.spec as AppSpec | undefined)?.syncPolicy?.automated !== undefined);
  if (!template)
    throw new ClusterError(
      `deploy/argocd has no Application named ${options.app} and none that auto-syncs to start from: add one (see deploy/argocd/staging.yaml)`,
    );
  const app = clone(template);
  const spec = app.spec as AppSpec;
  app.metadata = {
    ...app.metadata,
    name: options.app,
    namespace: options.argocdNamespace,
    labels: { ...(app.metadata?.labels ?? {}), 'app.kubernetes.io/managed-by': 'slipway-deploy' },
  };
  spec.source = {
    ...(spec.source ?? {}),
    repoURL: options.repoURL,
    targetRevision: options.branch,
    path: options.path,
  };
  spec.destination = { server, namespace: options.namespace };

  const projectName = spec.project ?? 'default';
  const project = rendered.find((o) => o.kind === 'AppProject' && o.metadata?.name === projectName);
  if (!project)
    throw new ClusterError(
      `Application ${template.metadata?.name} names AppProject ${projectName}, which deploy/argocd does not define: add it (deploy/argocd/project.yaml)`,
    );
  const proj = clone(project);
  const projSpec = (proj.spec ?? {}) as {
    sourceRepos?: string[];
    destinations?: { server?: string; namespace?: string }[];
  };
  projSpec.sourceRepos = [options.repoURL];
  const destinations = (projSpec.destinations ?? []).map((d) => ({ ...d, server: d.server ? server : d.server }));
  if (!destinations.some((d) => d.namespace === options.namespace))
    destinations.push({ server, namespace: options.namespace });
  projSpec.destinations = destinations;
  proj.spec = projSpec;
  proj.metadata = { ...proj.metadata, namespace: options.argocdNamespace };
  return [proj, app];
}

/** The namespace an overlay deploys into: that of its Deployments (all of one environment share it). */
export function overlayNamespace(rendered: KubeObject[]): string | undefined {
  return rendered.find((o) => o.kind === 'Deployment' && o.metadata?.namespace)?.metadata?.namespace;
}
