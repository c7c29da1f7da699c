import type { CreateNodesContext } from '@nx/devkit';
import { tempWorkspace } from '../lib/smoke/testing/config';
import { createNodes } from './smoke';

describe('smoke plugin', () => {
  let ws: ReturnType<typeof tempWorkspace>;
  beforeEach(() => (ws = tempWorkspace('catalog')));
  afterEach(() => ws.cleanup());

  const infer = async (files: string[], options = {}) => {
    const [, fn] = createNodes;
    return fn(files, options, {
      workspaceRoot: ws.root,
      nxJsonConfiguration: {},
    } as CreateNodesContext);
  };

  it('infers smoke with one configuration per environment, k6-smoke, load and typecheck-k6', async () => {
    ws.write('apps/catalog/smoke.json', {
      environments: { local: {}, staging: {}, production: {} },
    });
    ws.write('apps/catalog/k6/smoke.ts', '');
    ws.write('apps/catalog/k6/load.ts', '');
    ws.write('apps/catalog/k6/tsconfig.json', '{}');
    const results = await infer([
      'apps/catalog/smoke.json',
      'apps/catalog/k6/smoke.ts',
      'apps/catalog/k6/load.ts',
      'apps/catalog/k6/tsconfig.json',
    ]);
    const targets = Object.assign({}, ...results.map(([, r]) => r.projects?.['apps/catalog']?.targets));
    expect(Object.keys(targets)).toEqual(['smoke', 'k6-smoke', 'load', 'typecheck-k6']);
    // without a project tsconfig.json there is no `typecheck` to hook into
    ws.write('apps/catalog/tsconfig.json', '{}');
    const [[, withTsconfig]] = await infer(['apps/catalog/k6/tsconfig.json']);
    expect(withTsconfig.projects?.['apps/catalog']?.targets?.['typecheck']).toEqual({
      dependsOn: ['^typecheck', 'typecheck-k6'],
    });
    expect(targets.smoke).toMatchObject({
      executor: '@slipway/delivery:smoke',
      cache: false,
      defaultConfiguration: 'local',
      configurations: {
        local: { environment: 'local' },
        staging: { environment: 'staging' },
        production: { environment: 'production' },
      },
    });
    expect(targets['k6-smoke']).toMatchObject({
      executor: 'nx:run-commands',
      dependsOn: ['typecheck-k6'],
      options: {
        command: '"$(bash tools/scripts/install-k6.sh)" run --no-usage-report apps/catalog/k6/smoke.ts',
      },
    });
    expect(targets.load.options.command).toContain('apps/catalog/k6/load.ts');
    expect(targets['typecheck-k6']).toMatchObject({
      cache: true,
      options: { command: 'tsc -p apps/catalog/k6/tsconfig.json --noEmit' },
    });
  });

  it('has no default configuration without a local environment, and survives a broken smoke.json', async () => {
    ws.write('apps/catalog/smoke.json', '{ broken');
    const [[, result]] = await infer(['apps/catalog/smoke.json']);
    const smoke = result.projects?.['apps/catalog']?.targets?.['smoke'];
    expect(smoke?.configurations).toEqual({});
    expect(smoke?.defaultConfiguration).toBeUndefined();
  });

  it('adds nothing to folders that are not projects and honours target names', async () => {
    ws.write('stray/smoke.json', {});
    expect(await infer(['stray/smoke.json'])).toEqual([]);
    ws.write('apps/catalog/k6/smoke.ts', '');
    const [[, result]] = await infer(['apps/catalog/k6/smoke.ts'], {
      k6SmokeTargetName: 'perf-smoke',
    });
    expect(Object.keys(result.projects?.['apps/catalog']?.targets ?? {})).toEqual(['perf-smoke']);
    expect(result.projects?.['apps/catalog']?.targets?.['perf-smoke']?.dependsOn).toBeUndefined();
  });
});
