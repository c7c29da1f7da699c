import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { localApplications, overlayNamespace } from './argocd-register';
import { parseObjects } from '../manifests/kubernetes';

// The project's own deploy/argocd objects (what `kubectl kustomize deploy/argocd` renders).
const root = path.resolve(__dirname, '../../../../../deploy/argocd');
const rendered = parseObjects(
  ['project.yaml', 'staging.yaml', 'production.yaml']
    .map((f) => readFileSync(path.join(root, f), 'utf8'))
    .join('\n---\n'),
);
const options = {
  app: 'slipway-cluster-gitops',
  repoURL: 'file:///work/.local/deploy/cluster-gitops/remote.git',
  branch: 'main',
  path: 'deploy/k8s/overlays/cluster-gitops',
  namespace: 'slipway-cluster-gitops',
  argocdNamespace: 'argocd',
};

describe('localApplications', () => {
  it("derives the environment's Application from the auto-syncing one, pointed at the local repository", () => {
    const [project, app] = localApplications(rendered, options);
    expect(app).toMatchObject({
      kind: 'Application',
      metadata: { name: 'slipway-cluster-gitops', namespace: 'argocd' },
      spec: {
        project: 'slipway',
        source: { repoURL: options.repoURL, targetRevision: 'main', path: options.path },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'slipway-cluster-gitops' },
        // staging's policy: what a gitops release waits on.
        syncPolicy: { automated: { prune: true, selfHeal: true } },
      },
    });
    expect(project).toMatchObject({ kind: 'AppProject', metadata: { name: 'slipway', namespace: 'argocd' } });
    const spec = project?.spec as {
      sourceRepos: string[];
      destinations: { namespace: string }[];
      namespaceResourceWhitelist: unknown[];
    };
    expect(spec.sourceRepos).toEqual([options.repoURL]);
    expect(spec.destinations.map((d) => d.namespace)).toEqual([
      'slipway-staging',
      'slipway-production',
      'slipway-cluster-gitops',
    ]);
    // The project's whitelists stay: a local cluster enforces what a team's does.
    expect(spec.namespaceResourceWhitelist).toContainEqual({ group: 'apps', kind: 'Deployment' });
  });

  it('keeps deploy/argocd untouched and uses an Application of the same name as it is', () => {
    const before = JSON.stringify(rendered);
    const [, app] = localApplications(rendered, {
      ...options,
      app: 'slipway-production',
      namespace: 'slipway-production',
    });
    expect(JSON.stringify(rendered)).toBe(before);
    expect((app?.spec as { syncPolicy: { automated?: unknown } }).syncPolicy.automated).toBeUndefined();
  });

  it('refuses when no Application can be the template, naming the fix', () => {
    expect(() =>
      localApplications(
        rendered.filter((o) => o.kind !== 'Application'),
        options,
      ),
    ).toThrow(/no Application named slipway-cluster-gitops and none that auto-syncs to start from: add one/);
  });

  it("reads the overlay's namespace from its Deployments", () => {
    expect(
      overlayNamespace(
        parseObjects(
          'kind: ConfigMap\nmetadata: {name: a}\n---\nkind: Deployment\nmetadata: {name: catalog, namespace: ns1}\n',
        ),
      ),
    ).toBe('ns1');
  });
});
