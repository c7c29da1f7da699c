import { DeliveryInputErrors } from '../shared/errors';
import { parsePorts, resolveEnvironment } from './environment';

const ctx = {
  workspaceRoot: '/repo',
  deployableProjects: ['catalog', 'orders', 'web'],
  env: {},
};

describe('resolveEnvironment', () => {
  it('gives the local environment podman, a private GitOps repo, the product ports and no lock wait', () => {
    const config = resolveEnvironment({ environment: 'local' }, ctx);
    expect(config).toMatchObject({
      mode: 'podman',
      repository: 'local',
      registry: '127.0.0.1:5000',
      projects: ['catalog', 'orders', 'web'],
      projectsExplicit: false,
      ports: { catalog: 3101, orders: 3102, web: 4300 },
      instance: 'slipway-local',
      stateDir: '/repo/.local/deploy',
      lockWaitSeconds: 0,
      prereqs: true,
    });
  });

  it('gives other environments gitops on this repository, a ref lock and a bounded wait', () => {
    const config = resolveEnvironment({ environment: 'production' }, { ...ctx, env: { SLIPWAY_REGISTRY: 'ghcr.io' } });
    expect(config).toMatchObject({
      mode: 'gitops',
      repository: 'workspace',
      remote: 'origin',
      registry: 'ghcr.io',
      lockRef: 'refs/slipway/locks/production',
      lockWaitSeconds: 600,
      prereqs: false,
      ports: {},
    });
  });

  it('accepts ports as a string from the command line and an object from package.json', () => {
    expect(resolveEnvironment({ env: 'local', ports: 'catalog=3601,orders=3602,web=3603' }, ctx).ports).toEqual({
      catalog: 3601,
      orders: 3602,
      web: 3603,
    });
    expect(resolveEnvironment({ env: 'local', ports: { catalog: 3611 } }, ctx).ports).toEqual({
      catalog: 3611,
      orders: 3102,
      web: 4300,
    });
  });

  it('reports every bad value at once, each naming the value and the fix', () => {
    let error: unknown;
    try {
      resolveEnvironment(
        {
          environment: 'Prod!',
          mode: 'helm' as never,
          projects: 'catalog,billing',
          registry: 'http://x',
          ports: 'catalog=99999',
          lockRef: 'locks/x',
          smokeK6Duration: 'soon',
        },
        ctx,
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeliveryInputErrors);
    const message = (error as Error).message;
    expect(message).toContain("environment 'Prod!' is not a valid name");
    expect(message).toContain("mode 'helm' is not one of podman, kubectl, gitops");
    expect(message).toContain(
      "project 'billing' can not be deployed: it has no image target\n  fix: use one of: catalog, orders, web",
    );
    expect(message).toContain("registry 'http://x' is not host[:port]");
    expect(message).toContain("ports: 'catalog=99999' is not <project>=<port 1-65535>");
    expect(message).toContain("lockRef 'locks/x' is not a git ref name");
    expect(message).toContain("smokeK6Duration 'soon' is not a k6 duration");
  });

  it('refuses a missing environment and disagreeing --env/--environment', () => {
    expect(() => resolveEnvironment({}, ctx)).toThrow('no environment given');
    expect(() => resolveEnvironment({ env: 'local', environment: 'staging' }, ctx)).toThrow(
      '--env=local and --environment=staging disagree',
    );
  });

  it('needs a port for every project in podman mode', () => {
    expect(() =>
      resolveEnvironment(
        { environment: 'dev', mode: 'podman', projects: 'catalog' },
        { ...ctx, deployableProjects: ['catalog'] },
      ),
    ).not.toThrow();
    expect(() =>
      resolveEnvironment(
        { environment: 'dev', mode: 'podman', projects: 'web' },
        { ...ctx, deployableProjects: ['web', 'billing'] },
      ),
    ).not.toThrow();
    expect(() =>
      resolveEnvironment(
        { environment: 'dev', mode: 'podman', projects: 'billing' },
        { ...ctx, deployableProjects: ['billing'] },
      ),
    ).toThrow(/no port for billing/);
  });
});

describe('parsePorts', () => {
  it('refuses two services on one port', () => {
    const problems: Error[] = [];
    parsePorts('catalog=3601,orders=3601', problems as never);
    expect(problems.map((p) => p.message)).toEqual([expect.stringContaining('catalog and orders both use port 3601')]);
  });
});
