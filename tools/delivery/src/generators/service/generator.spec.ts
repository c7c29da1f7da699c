import { getProjects, readJson, type Tree } from '@nx/devkit';
import { parse, parseAllDocuments } from 'yaml';
import { workspaceTree } from '../testing/workspace-tree';
import { serviceGenerator } from './generator';

const text = (tree: Tree, path: string) => tree.read(path, 'utf-8') as string;

describe('service generator', () => {
  let tree: Tree;
  beforeEach(() => {
    tree = workspaceTree();
  });

  it('writes a postgres + redis service with everything the samples have', async () => {
    await serviceGenerator(tree, { name: 'inventory', database: 'postgres', redis: true, skipInstall: true });
    for (const file of [
      'Dockerfile',
      '.dockerignore',
      'smoke.json',
      'k6/smoke.ts',
      'k6/load.ts',
      'src/main.ts',
      'src/app/app.ts',
      'src/app/items.ts',
      'src/app/app.spec.ts',
      'src/app/inventory.int-spec.ts',
      'src/assets/migrations/0001_create_items.sql',
      'jest.integration.config.cts',
    ]) {
      expect(tree.exists(`apps/inventory/${file}`)).toBe(true);
    }
    for (const kind of ['deployment', 'service', 'configmap', 'serviceaccount', 'hpa', 'pdb', 'networkpolicy']) {
      expect(tree.exists(`deploy/k8s/base/inventory/${kind}.yaml`)).toBe(true);
    }
    const project = getProjects(tree).get('inventory');
    expect(project?.root).toBe('apps/inventory');
    expect(project?.tags).toEqual(['scope:inventory', 'type:app']);
    expect(text(tree, 'apps/inventory/src/app/app.ts')).toContain("service.addReadinessCheck('db'");
    expect(text(tree, 'apps/inventory/src/app/inventory.int-spec.ts')).toContain("checks['redis']");
    const policy = parse(text(tree, 'deploy/k8s/base/inventory/networkpolicy.yaml'));
    expect(policy.spec.egress[0].ports.map((p: { port: number }) => p.port)).toEqual([5432, 6379]);
  });

  it('takes the next free port and writes it everywhere the service is reached', async () => {
    await serviceGenerator(tree, { name: 'inventory', skipInstall: true });
    const deployPkg = readJson(tree, 'deploy/package.json');
    expect(deployPkg.nx.targets.local.options.ports).toMatchObject({ catalog: 3101, orders: 3102, inventory: 3103 });
    expect(readJson(tree, 'apps/inventory/smoke.json').environments.local.baseUrl).toBe('http://127.0.0.1:3103');
    expect(text(tree, 'apps/inventory/Dockerfile')).toContain('EXPOSE 3103');
    const deployment = parse(text(tree, 'deploy/k8s/base/inventory/deployment.yaml'));
    expect(deployment.spec.template.spec.containers[0].readinessProbe.httpGet.port).toBe(3103);
    expect(deployment.spec.template.spec.containers[0].image).toBe('slipway/inventory');
    await serviceGenerator(tree, { name: 'billing', skipInstall: true });
    expect(readJson(tree, 'deploy/package.json').nx.targets.local.options.ports.billing).toBe(3104);
  });

  it('a service without a database has no migrations, no db check and no egress', async () => {
    await serviceGenerator(tree, { name: 'greeter', skipInstall: true });
    expect(tree.exists('apps/greeter/src/assets')).toBe(false);
    expect(text(tree, 'apps/greeter/src/app/app.ts')).not.toContain('database');
    expect(parse(text(tree, 'deploy/k8s/base/greeter/networkpolicy.yaml')).spec.egress).toEqual([]);
    expect(readJson(tree, 'apps/greeter/package.json').nx.targets.build.options.assets).toEqual([]);
  });

  it('adds the service to the base, every overlay, the lint scopes, the README and tsconfig', async () => {
    await serviceGenerator(tree, { name: 'inventory', description: 'Stock levels per warehouse', skipInstall: true });
    expect(parse(text(tree, 'deploy/k8s/base/kustomization.yaml')).resources).toContain('inventory');
    for (const overlay of ['local', 'staging', 'production']) {
      const kustomization = parse(text(tree, `deploy/k8s/overlays/${overlay}/kustomization.yaml`));
      const image = kustomization.images.find((i: { name: string }) => i.name === 'slipway/inventory');
      const catalog = kustomization.images.find((i: { name: string }) => i.name === 'slipway/catalog');
      expect(image.newName).toBe(catalog.newName.replace(/catalog$/, 'inventory'));
      expect(image).toMatchObject({ newTag: 'h-000000000000', digest: `sha256:${'0'.repeat(64)}` });
      const replicas = kustomization.replicas.find((r: { name: string }) => r.name === 'inventory');
      expect(replicas.count).toBe(kustomization.replicas[0].count);
    }
    const localConfig = parseAllDocuments(text(tree, 'deploy/k8s/overlays/local/local-config.yaml')).map((d) =>
      d.toJS(),
    );
    // The settings the overlay gives every service (catalog's, which names no other service's URL).
    const catalogConfig = localConfig.find((d) => d.metadata.name === 'catalog-config').data;
    expect(catalogConfig).toMatchObject({ HOST: '127.0.0.1', LOG_LEVEL: 'debug' });
    expect(localConfig.find((d) => d.metadata.name === 'inventory-config').data).toEqual(catalogConfig);
    expect(localConfig.find((d) => d.metadata.name === 'orders-config').data.CATALOG_URL).toBeDefined();
    // Comments in the edited overlay survive.
    expect(text(tree, 'deploy/k8s/overlays/staging/kustomization.yaml')).toContain('# The only place image references');
    expect(text(tree, 'eslint.config.mjs')).toContain(
      "{ sourceTag: 'scope:inventory', onlyDependOnLibsWithTags: ['scope:inventory', 'scope:shared'] },",
    );
    expect(text(tree, 'README.md')).toMatch(
      /\| `inventory` +\| `apps\/inventory` +\| `scope:inventory`, `type:app` \| Stock levels per warehouse +\|/,
    );
    expect(readJson(tree, 'tsconfig.json').references).toContainEqual({ path: './apps/inventory' });
  });

  it('honours --directory and --tags', async () => {
    await serviceGenerator(tree, {
      name: 'ledger',
      directory: 'apps/finance/ledger',
      tags: 'team:finance',
      skipInstall: true,
    });
    expect(getProjects(tree).get('ledger')?.root).toBe('apps/finance/ledger');
    expect(getProjects(tree).get('ledger')?.tags).toEqual(['scope:ledger', 'type:app', 'team:finance']);
    expect(readJson(tree, 'apps/finance/ledger/tsconfig.json').extends).toBe('../../../tsconfig.base.json');
  });

  describe('refuses bad input, writing nothing', () => {
    it.each([
      ['Inventory', /not a DNS-1123 label.*use e\.g\. "inventory"/s],
      ['2fast', /not a DNS-1123 label/],
      ['stock_levels', /not a DNS-1123 label.*"stock-levels"/s],
      ['a-very-long-service-name-that-will-not-fit-k8s', /is 46 characters; at most 40/],
      ['platform', /reserved/],
      ['catalog', /service name "catalog" is taken: project "catalog" already exists/],
    ])('name %s', async (name, message) => {
      const before = tree.listChanges().length;
      await expect(serviceGenerator(tree, { name, skipInstall: true })).rejects.toThrow(message);
      expect(tree.listChanges().length).toBe(before);
    });

    it('a port another service uses, naming it and the next free one', async () => {
      await expect(serviceGenerator(tree, { name: 'inventory', port: 3102, skipInstall: true })).rejects.toThrow(
        /port 3102 is already used by orders[\s\S]*next free one \(3103\)/,
      );
      expect(tree.exists('apps/inventory')).toBe(false);
    });

    it('a directory outside the workspace and a bad tag', async () => {
      await expect(
        serviceGenerator(tree, { name: 'inventory', directory: '../elsewhere', skipInstall: true }),
      ).rejects.toThrow(/--directory "\.\.\/elsewhere" is not a relative path inside the workspace/);
      await expect(
        serviceGenerator(tree, { name: 'inventory', tags: 'ok,bad tag', skipInstall: true }),
      ).rejects.toThrow(/tag "bad tag" is not an Nx tag/);
      expect(tree.exists('apps/inventory')).toBe(false);
    });
  });
});
