import type { ProjectGraph, Tree } from '@nx/devkit';
import { serviceGenerator } from '../service/generator';
import { workspaceTree } from '../testing/workspace-tree';
import { removeServiceGenerator } from './generator';

/** A graph in which `dependants` depend on `target` (the generator reads nothing else of it). */
function graphWith(target: string, dependants: string[]): ProjectGraph {
  return {
    nodes: {},
    dependencies: Object.fromEntries([
      [target, []],
      ...dependants.map((source) => [source, [{ source, target, type: 'static' }]]),
    ]),
  } as ProjectGraph;
}

const EDITED = [
  'deploy/k8s/base/kustomization.yaml',
  'deploy/k8s/overlays/local/kustomization.yaml',
  'deploy/k8s/overlays/local/local-config.yaml',
  'deploy/k8s/overlays/staging/kustomization.yaml',
  'deploy/k8s/overlays/staging/config.yaml',
  'deploy/k8s/overlays/production/kustomization.yaml',
  'deploy/package.json',
  'eslint.config.mjs',
  'README.md',
  'tsconfig.json',
];

describe('remove-service generator', () => {
  let tree: Tree;
  let original: Record<string, string>;
  beforeEach(() => {
    tree = workspaceTree();
    original = Object.fromEntries(EDITED.map((path) => [path, tree.read(path, 'utf-8') as string]));
  });

  it('undoes everything the service generator wrote, byte for byte in the shared files', async () => {
    await serviceGenerator(tree, { name: 'inventory', database: 'postgres', skipInstall: true });
    tree.write(
      'deploy/holds/staging.json',
      JSON.stringify({
        environment: 'staging',
        holds: [
          { project: 'inventory', reference: 'r1', reason: 'smoke failed', since: '2026-12-01T00:00:00Z' },
          { project: 'catalog', reference: 'r2', reason: 'smoke failed', since: '2026-12-01T00:00:00Z' },
        ],
      }),
    );
    await removeServiceGenerator(tree, { name: 'inventory', skipInstall: true }, graphWith('inventory', []));
    expect(tree.exists('apps/inventory')).toBe(false);
    expect(tree.exists('deploy/k8s/base/inventory')).toBe(false);
    for (const path of EDITED) expect({ path, text: tree.read(path, 'utf-8') }).toEqual({ path, text: original[path] });
    const holds = JSON.parse(tree.read('deploy/holds/staging.json', 'utf-8') as string);
    expect(holds.holds.map((h: { project: string }) => h.project)).toEqual(['catalog']);
  });

  it('refuses, naming them, while other projects depend on the service', async () => {
    await expect(
      removeServiceGenerator(tree, { name: 'catalog', skipInstall: true }, graphWith('catalog', ['orders', 'web-e2e'])),
    ).rejects.toThrow(/catalog is still used by orders, web-e2e/);
    expect(tree.exists('apps/catalog/package.json')).toBe(true);
    expect(tree.read('deploy/k8s/base/kustomization.yaml', 'utf-8')).toBe(
      original['deploy/k8s/base/kustomization.yaml'],
    );
  });

  it('refuses an unknown project and a project that is not a service', async () => {
    await expect(
      removeServiceGenerator(tree, { name: 'nope', skipInstall: true }, graphWith('nope', [])),
    ).rejects.toThrow(/no project named "nope"/);
    tree.write(
      'libs/util/package.json',
      JSON.stringify({ name: '@slipway/util', nx: { name: 'util', tags: ['type:lib'] } }),
    );
    await expect(
      removeServiceGenerator(tree, { name: 'util', skipInstall: true }, graphWith('util', [])),
    ).rejects.toThrow(/"util" is not a service/);
  });
});
