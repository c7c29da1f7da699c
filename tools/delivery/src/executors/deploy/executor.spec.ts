import type { ExecutorContext } from '@nx/devkit';
import type { ReleaseDeps } from '../../lib/release/release';
import { runDeployExecutor, type DeployExecutorDeps } from './executor';
import { digest, harness, imageRecord, overlay } from '../../lib/release/testing/fakes';

const OVERLAY = 'deploy/k8s/overlays/local/kustomization.yaml';

function context(): ExecutorContext {
  return {
    root: '/repo',
    cwd: '/repo',
    isVerbose: false,
    projectName: 'deploy',
    targetName: 'local',
    projectsConfigurations: {
      version: 2,
      projects: {
        deploy: { root: 'deploy', targets: {} },
        catalog: {
          root: 'apps/catalog',
          targets: { image: { executor: '@slipway/delivery:image' } },
        },
        orders: {
          root: 'apps/orders',
          targets: { image: { executor: '@slipway/delivery:image' } },
        },
        contracts: { root: 'libs/shared/contracts', targets: {} },
      },
    },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
  } as unknown as ExecutorContext;
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    log: (l: string) => out.push(l),
    error: (l: string) => err.push(l),
  };
}

describe('deploy executor', () => {
  it('--dryRun prints the resolved environment and touches nothing', async () => {
    const io = capture();
    const wire = jest.fn();
    const result = await runDeployExecutor(
      { environment: 'local', dryRun: true, ports: 'catalog=3601,orders=3602' },
      context(),
      { wire, log: io.log, error: io.error },
    );
    expect(result.success).toBe(true);
    expect(wire).not.toHaveBeenCalled();
    expect(io.out.join('\n')).toContain('environment local (mode podman)\n  projects: catalog, orders');
    expect(io.out.join('\n')).toContain('urls: catalog http://127.0.0.1:3601, orders http://127.0.0.1:3602');
  });

  it('bad options fail before anything runs, naming the value and the fix', async () => {
    const io = capture();
    const wire = jest.fn();
    const result = await runDeployExecutor({ environment: 'local', projects: ['contracts'] }, context(), {
      wire,
      log: io.log,
      error: io.error,
    });
    expect(result.success).toBe(false);
    expect(wire).not.toHaveBeenCalled();
    expect(io.err.join('\n')).toBe(
      "deploy failed: project 'contracts' can not be deployed: it has no image target\n  fix: use one of: catalog, orders",
    );
  });

  it('--down is refused for environments this machine does not run', async () => {
    const io = capture();
    const result = await runDeployExecutor({ environment: 'production', down: true }, context(), {
      wire: jest.fn(),
      log: io.log,
      error: io.error,
    });
    expect(result.success).toBe(false);
    expect(io.err[0]).toMatch(/--down stops what this machine runs; mode gitops is managed elsewhere/);
  });

  it('runs the release through the wired adapters and maps its exit code', async () => {
    const io = capture();
    const h = harness({
      files: {
        [OVERLAY]: overlay({
          catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
          orders: { tag: 'h-bbbbbbbbbbbb', digest: digest('b') },
        }),
      },
      options: { environment: 'local' },
    });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    const wire = jest.fn<Promise<ReleaseDeps>, Parameters<DeployExecutorDeps['wire']>>(async (config) => ({
      ...h.deps,
      config,
    }));
    const ok = await runDeployExecutor({ environment: 'local' }, context(), {
      wire,
      log: io.log,
      error: io.error,
    });
    expect(ok.success).toBe(true);
    expect(wire.mock.calls[0]?.[3]).toBe('nx run deploy:local');
    expect(io.out[io.out.length - 1]).toBe('local: deployed catalog');

    h.images.next = [
      imageRecord('catalog', 'h-dddddddddddd', digest('d')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    h.smoke.broken.add(`127.0.0.1:5000/slipway/catalog:h-dddddddddddd@${digest('d')}`);
    const failed = await runDeployExecutor({ environment: 'local' }, context(), {
      wire,
      log: io.log,
      error: io.error,
    });
    expect(failed.success).toBe(false);
    expect(io.err[io.err.length - 1]).toMatch(
      /^local: release local-\S+ failed \(catalog\); restored catalog → 127\.0\.0\.1:5000\/slipway\/catalog:h-cccccccccccc; hold written for catalog$/,
    );
  });
});
