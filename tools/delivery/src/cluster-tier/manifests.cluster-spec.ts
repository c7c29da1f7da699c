import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { kustomizeBuild, parseObjects } from '../lib/manifests/kubernetes';
import { WORKSPACE, kubectl, kubectlOk } from './cluster';

/**
 * Every overlay under deploy/k8s/overlays is accepted by a real API server: a server-side dry run
 * of its rendered objects (schemas, defaulting, admission) against this machine's Kubernetes 1.33.
 * deploy/argocd and the Argo Rollouts example need their CRDs (Argo CD's are installed by the
 * gitops tier; Argo Rollouts is not built here) and are left to those.
 */
const OVERLAYS = path.join(WORKSPACE, 'deploy/k8s/overlays');

describe('deploy/k8s overlays on the real API server', () => {
  const created: string[] = [];

  afterAll(async () => {
    for (const namespace of created)
      await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=false']);
  });

  it.each(readdirSync(OVERLAYS).sort())('%s: a server-side dry run accepts every object', async (overlay) => {
    const yaml = await kustomizeBuild(path.join(OVERLAYS, overlay));
    const objects = parseObjects(yaml);
    expect(objects.length).toBeGreaterThan(0);
    // A dry run of namespaced objects needs their namespace to exist (Argo CD creates it for real).
    for (const namespace of new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n))) {
      const exists = await kubectl(['get', 'namespace', namespace]);
      if (exists.code !== 0) {
        await kubectlOk(['create', 'namespace', namespace]);
        created.push(namespace);
      }
    }
    const result = await kubectl(
      ['apply', '--server-side', '--dry-run=server', '--field-manager=slipway-validate', '-f', '-'],
      yaml,
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toHaveLength(objects.length);
  });
});
