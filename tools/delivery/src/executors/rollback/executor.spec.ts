import type { ExecutorContext } from '@nx/devkit';
import type { ReleaseDeps } from '../../lib/release/release';
import { runRollbackExecutor, type RollbackExecutorDeps } from './executor';
import { digest, harness, overlay } from '../../lib/release/testing/fakes';

function context(): ExecutorContext {
  return {
    root: '/repo',
    cwd: '/repo',
    isVerbose: false,
    projectName: 'deploy',
    targetName: 'rollback',
    projectsConfigurations: {
      version: 2,
      projects: {
        deploy: {
          root: 'deploy',
          targets: {
            production: {
              executor: '@slipway/delivery:deploy',
              options: {
                environment: 'production',
                mode: 'gitops',
                argocdApp: 'prod-app',
                lockWaitSeconds: 30,
              },
            },
            rollback: { executor: '@slipway/delivery:rollback' },
          },
        },
        catalog: {
          root: 'apps/catalog',
          targets: { image: { executor: '@slipway/delivery:image' } },
        },
        orders: {
          root: 'apps/orders',
          targets: { image: { executor: '@slipway/delivery:image' } },
        },
      },
    },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as unknown as ExecutorContext;
}

describe('rollback executor', () => {
  it("takes the environment's settings from deploy:<env>, with flags on top", async () => {
    const h = harness({
      files: {
        'deploy/k8s/overlays/production/kustomization.yaml': overlay({
          catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
        }),
      },
    });
    const wire = jest.fn<Promise<ReleaseDeps>, Parameters<RollbackExecutorDeps['wire']>>(async (config) => ({
      ...h.deps,
      config,
    }));
    const err: string[] = [];
    await runRollbackExecutor({ env: 'production', to: 'previous', lockWaitSeconds: 5 }, context(), {
      wire,
      log: () => undefined,
      error: (l) => err.push(l),
    });
    const config = wire.mock.calls[0]?.[0];
    expect(config).toMatchObject({
      environment: 'production',
      mode: 'gitops',
      argocdApp: 'prod-app',
      lockWaitSeconds: 5,
    });
    expect(wire.mock.calls[0]?.[3]).toBe('nx run deploy:rollback --env=production --to=previous');
    // no history yet: nothing to go back to, said plainly
    expect(err.join('\n')).toMatch(
      /no earlier successful release of catalog, orders in deploy\/history\/production\.jsonl/,
    );
  });

  it('refuses projects the environment does not deploy, and bad targets, before wiring anything', async () => {
    const wire = jest.fn();
    const err: string[] = [];
    const io = {
      wire,
      log: () => undefined,
      error: (l: string) => err.push(l),
    };
    expect(
      (await runRollbackExecutor({ env: 'production', to: 'previous', projects: ['billing'] }, context(), io)).success,
    ).toBe(false);
    expect(err[0]).toBe('rollback failed: billing is not deployed to production\n  fix: use some of: catalog, orders');
    expect((await runRollbackExecutor({ to: 'previous' }, context(), io)).success).toBe(false);
    expect(err[1]).toContain('no environment given');
    expect(wire).not.toHaveBeenCalled();
  });
});
