import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { runValidateManifestsExecutor } from './executor';
import { formatReport, validateManifests, type Finding } from '../../lib/policy/validate';

/** The workspace root (the shipped deploy/ is validated as it is). */
function workspaceRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'nx.json'))) dir = path.dirname(dir);
  return dir;
}

const LOCAL_EXEMPTION = [
  { overlay: 'local', policy: 'default-deny-network-policy', reason: 'podman has no NetworkPolicy' },
];

describe('deploy:validate on real manifests (kubectl kustomize)', () => {
  const root = workspaceRoot();

  it('the shipped overlays and Argo CD manifests pass', async () => {
    const report = await validateManifests({
      workspaceRoot: root,
      extraKustomizations: ['deploy/argocd'],
      exemptions: LOCAL_EXEMPTION,
    });
    expect(formatReport(report)).toMatch(/all manifests valid$/);
    expect(report.sources.map((s) => s.name)).toEqual([
      'cluster',
      'cluster-gitops',
      'local',
      'production',
      'staging',
      'deploy/argocd',
    ]);
    expect(report.sources.every((s) => s.objects > 0)).toBe(true);
  });

  describe('fails precisely on a manifest that breaks each policy', () => {
    let copy: string;
    beforeEach(async () => {
      copy = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-validate-'));
      await fs.cp(path.join(root, 'deploy/k8s'), path.join(copy, 'deploy/k8s'), { recursive: true });
      await fs.cp(path.join(root, 'deploy/argocd'), path.join(copy, 'deploy/argocd'), { recursive: true });
    });
    afterEach(async () => fs.rm(copy, { recursive: true, force: true }));

    /** Replace text in a copied file; the test fails if the text is not there (no vacuous case). */
    async function breakFile(file: string, from: string | RegExp, to: string): Promise<void> {
      const p = path.join(copy, file);
      const before = await fs.readFile(p, 'utf8');
      const after = before.replace(from, to);
      expect(after).not.toBe(before);
      await fs.writeFile(p, after);
    }

    const C = (svc: string) => `spec.template.spec.containers[${svc}]`;
    const cases: [string, string, string | RegExp, string, Partial<Finding>][] = [
      [
        'read-only root filesystem off',
        'deploy/k8s/base/catalog/deployment.yaml',
        'readOnlyRootFilesystem: true',
        'readOnlyRootFilesystem: false',
        {
          policy: 'read-only-root-filesystem',
          file: 'deploy/k8s/base/catalog/deployment.yaml',
          object: 'Deployment/catalog',
          field: `${C('catalog')}.securityContext.readOnlyRootFilesystem`,
        },
      ],
      [
        'latest tag in production',
        'deploy/k8s/overlays/production/kustomization.yaml',
        /newTag: h-000000000000\n {4}digest: sha256:0{64}\n( {2}- name: slipway\/orders)/,
        'newTag: latest\n$1',
        {
          policy: 'image-pinned',
          source: 'production',
          file: 'deploy/k8s/base/catalog/deployment.yaml (fix in deploy/k8s/overlays/production/kustomization.yaml)',
          object: 'Deployment/catalog',
          field: `${C('catalog')}.image`,
        },
      ],
      [
        'readiness probe removed',
        'deploy/k8s/base/orders/deployment.yaml',
        / {10}readinessProbe:\n(.*\n){6}/,
        '',
        {
          policy: 'probes',
          file: 'deploy/k8s/base/orders/deployment.yaml',
          object: 'Deployment/orders',
          field: `${C('orders')}.readinessProbe`,
        },
      ],
      [
        'memory limit removed',
        'deploy/k8s/base/web/deployment.yaml',
        /(limits:\n\s+cpu: 500m\n)\s+memory: 256Mi\n/,
        '$1',
        {
          policy: 'resources',
          file: 'deploy/k8s/base/web/deployment.yaml',
          object: 'Deployment/web',
          field: `${C('web')}.resources.limits.memory`,
        },
      ],
      [
        'runAsNonRoot off',
        'deploy/k8s/base/catalog/deployment.yaml',
        /runAsNonRoot: true/g,
        'runAsNonRoot: false',
        {
          policy: 'run-as-non-root',
          object: 'Deployment/catalog',
          field: `${C('catalog')}.securityContext.runAsNonRoot`,
        },
      ],
      [
        'uid removed',
        'deploy/k8s/base/catalog/deployment.yaml',
        /\n\s+runAsUser: 10001/g,
        '',
        { policy: 'fixed-uid', object: 'Deployment/catalog', field: `${C('catalog')}.securityContext.runAsUser` },
      ],
      [
        'privilege escalation allowed',
        'deploy/k8s/base/orders/deployment.yaml',
        'allowPrivilegeEscalation: false',
        'allowPrivilegeEscalation: true',
        {
          policy: 'no-privilege-escalation',
          object: 'Deployment/orders',
          field: `${C('orders')}.securityContext.allowPrivilegeEscalation`,
        },
      ],
      [
        'capabilities not dropped',
        'deploy/k8s/base/web/deployment.yaml',
        '- ALL',
        '- NET_RAW',
        {
          policy: 'drop-all-capabilities',
          object: 'Deployment/web',
          field: `${C('web')}.securityContext.capabilities.drop`,
        },
      ],
      [
        'seccomp unconfined',
        'deploy/k8s/base/web/deployment.yaml',
        /type: RuntimeDefault/g,
        'type: Unconfined',
        {
          policy: 'seccomp-runtime-default',
          object: 'Deployment/web',
          field: `${C('web')}.securityContext.seccompProfile.type`,
        },
      ],
      [
        'no /tmp emptyDir',
        'deploy/k8s/base/catalog/deployment.yaml',
        'mountPath: /tmp',
        'mountPath: /scratch',
        { policy: 'tmp-emptydir', object: 'Deployment/catalog', field: `${C('catalog')}.volumeMounts` },
      ],
      [
        'schema: port as a string',
        'deploy/k8s/base/catalog/service.yaml',
        'port: 3101',
        'port: "three"',
        {
          policy: 'schema',
          file: 'deploy/k8s/base/catalog/service.yaml',
          object: 'Service/catalog',
          field: 'spec.ports[0].port',
        },
      ],
      [
        'default deny removed',
        'deploy/k8s/base/kustomization.yaml',
        '  - platform\n',
        '',
        {
          policy: 'default-deny-network-policy',
          source: 'staging',
          file: 'deploy/k8s/overlays/staging/kustomization.yaml',
        },
      ],
      [
        'Argo CD Application without project',
        'deploy/argocd/production.yaml',
        '  project: slipway\n',
        '',
        {
          policy: 'schema',
          source: 'deploy/argocd',
          file: 'deploy/argocd/production.yaml',
          object: 'Application/slipway-production',
          field: 'spec.project',
        },
      ],
    ];

    it.each(cases)('%s', async (_name, file, from, to, expected) => {
      await breakFile(file, from, to);
      const report = await validateManifests({
        workspaceRoot: copy,
        extraKustomizations: ['deploy/argocd'],
        exemptions: LOCAL_EXEMPTION,
      });
      expect(report.ok).toBe(false);
      expect(report.findings).toEqual(expect.arrayContaining([expect.objectContaining(expected)]));
      // Only the broken policy fires: nothing else is reported.
      expect(new Set(report.findings.map((f) => f.policy))).toEqual(new Set([expected.policy]));
      const text = formatReport(report);
      expect(text).toContain(`field:  ${report.findings[0].field}`);
      expect(text).toMatch(/fix: {4}\S/);
    });

    it('the executor exits non-zero and prints file, object, field and fix', async () => {
      await breakFile(
        'deploy/k8s/base/orders/deployment.yaml',
        'allowPrivilegeEscalation: false',
        'allowPrivilegeEscalation: true',
      );
      const errors: string[] = [];
      const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
      const logSpy = jest.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        const result = await runValidateManifestsExecutor(
          { extraKustomizations: ['deploy/argocd'], exemptions: LOCAL_EXEMPTION },
          { root: copy } as ExecutorContext,
        );
        expect(result.success).toBe(false);
      } finally {
        spy.mockRestore();
        logSpy.mockRestore();
      }
      const out = errors.join('\n');
      expect(out).toContain('✗ deploy/k8s/base/orders/deployment.yaml — Deployment/orders [production]');
      expect(out).toContain('field:  spec.template.spec.containers[orders].securityContext.allowPrivilegeEscalation');
      expect(out).toContain('fix:    set allowPrivilegeEscalation: false');
    });

    it('the Argo Rollouts blue-green example validates, and a broken Rollout is named precisely', async () => {
      const example = 'deploy/k8s/examples/production-blue-green';
      const ok = await validateManifests({
        workspaceRoot: copy,
        overlays: ['production'],
        extraKustomizations: [example],
      });
      expect(ok.findings).toEqual([]);
      expect(ok.sources.find((s) => s.name === example)?.objects).toBeGreaterThan(24);
      await breakFile('deploy/k8s/components/rollout/rollouts.yaml', '      activeService: orders\n', '');
      const report = await validateManifests({
        workspaceRoot: copy,
        overlays: ['production'],
        extraKustomizations: [example],
      });
      expect(report.findings).toEqual([
        expect.objectContaining({
          source: example,
          policy: 'schema',
          file: 'deploy/k8s/components/rollout/rollouts.yaml',
          object: 'Rollout/orders',
          field: 'spec.strategy.blueGreen.activeService',
        }),
      ]);
    });

    it('a kustomize error names the overlay', async () => {
      await breakFile('deploy/k8s/overlays/staging/kustomization.yaml', '  - ingress.yaml\n', '  - missing.yaml\n');
      await expect(validateManifests({ workspaceRoot: copy, overlays: ['staging'] })).rejects.toThrow(
        /kubectl kustomize deploy\/k8s\/overlays\/staging failed: .*missing\.yaml/,
      );
    });

    it('an exemption naming an unknown policy is refused', async () => {
      await expect(
        validateManifests({ workspaceRoot: copy, exemptions: [{ overlay: 'local', policy: 'no-such', reason: 'x' }] }),
      ).rejects.toThrow(/unknown policy 'no-such'/);
    });
  });
});
