import type { ExecutorContext } from '@nx/devkit';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HttpRegistryClient, type RegistryClient } from '../../lib/image/registry';
import { type LocalRegistry, pushTestImage, startLocalRegistry } from '../../testing/local-registry';
import { hostDeps, runReleasePublish } from './executor';

/**
 * `nx release publish` for images against a real docker-registry: the semver tags land on the very
 * manifest the image target pushed (same digest), through manifest GET + PUT only.
 */
describe('nx-release-publish against a real registry', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-release-publish-'));
  let registry: LocalRegistry;
  let client: HttpRegistryClient;
  const calls: string[] = [];
  const logs: string[] = [];

  const context = (project: string): ExecutorContext =>
    ({
      root: tmp,
      cwd: tmp,
      isVerbose: false,
      projectName: project,
      targetName: 'nx-release-publish',
      projectsConfigurations: { version: 2, projects: { [project]: { root: `apps/${project}` } } },
      nxJsonConfiguration: {},
      projectGraph: { nodes: {}, dependencies: {} },
    }) as unknown as ExecutorContext;

  /** The real client, with every registry call it makes written down. */
  const recording = (real: RegistryClient): RegistryClient =>
    new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${String(prop)} ${String(args[1])}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const deps = {
    ...hostDeps,
    registry: (options: Parameters<typeof hostDeps.registry>[0]) => recording(hostDeps.registry(options)),
    env: {},
    log: (m: string) => logs.push(m),
    error: (m: string) => logs.push(`ERROR ${m}`),
  };

  const setUp = async (project: string, packageVersion: string, builtVersion: string) => {
    const image = `${registry.addr}/slipway/${project}`;
    const digest = await pushTestImage(registry.addr, `slipway/${project}`, 'h-0123456789ab', {
      'org.opencontainers.image.version': builtVersion,
    });
    mkdirSync(path.join(tmp, 'apps', project), { recursive: true });
    mkdirSync(path.join(tmp, 'dist/images'), { recursive: true });
    writeFileSync(path.join(tmp, 'apps', project, 'package.json'), JSON.stringify({ version: packageVersion }));
    writeFileSync(
      path.join(tmp, 'dist/images', `${project}.json`),
      JSON.stringify({
        project,
        image,
        tags: ['h-0123456789ab'],
        digest,
        contentTag: 'h-0123456789ab',
        revision: 'a'.repeat(40),
        version: builtVersion,
        builtAt: new Date().toISOString(),
        reused: false,
        engine: 'buildah',
      }),
    );
    return digest;
  };

  beforeAll(async () => {
    registry = await startLocalRegistry(tmp);
    client = new HttpRegistryClient({ registry: registry.addr, insecure: true });
  });
  afterAll(async () => {
    await registry?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    calls.length = 0;
    logs.length = 0;
  });

  it('adds 1.4.2, 1.4 and 1 to the image by digest, with manifest calls only', async () => {
    const digest = await setUp('catalog', '1.4.2', '1.4.2');
    expect(await runReleasePublish({}, context('catalog'), deps)).toEqual({ success: true });
    expect((await client.listTags('slipway/catalog')).sort()).toEqual(['1', '1.4', '1.4.2', 'h-0123456789ab']);
    for (const tag of ['1.4.2', '1.4', '1'])
      expect((await client.headManifest('slipway/catalog', tag))?.digest).toBe(digest);
    expect(calls).toEqual([
      `headManifest ${digest}`,
      `getManifest ${digest}`,
      'putManifest 1.4.2',
      'putManifest 1.4',
      'putManifest 1',
    ]);
  });

  it('takes the version nx release passes, and skips a project without a new version', async () => {
    await setUp('orders', '0.3.0', '0.3.0');
    expect(
      await runReleasePublish({ nxReleaseVersionData: { orders: { newVersion: null } } }, context('orders'), deps),
    ).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toContain('no new version');
    expect(
      await runReleasePublish({ nxReleaseVersionData: { orders: { newVersion: '0.3.0' } } }, context('orders'), deps),
    ).toEqual({ success: true });
    expect((await client.listTags('slipway/orders')).sort()).toEqual(['0', '0.3', '0.3.0', 'h-0123456789ab']);
  });

  it('a dry run prints the plan and tags nothing', async () => {
    await setUp('web', '2.0.0', '2.0.0');
    expect(await runReleasePublish({ dryRun: true }, context('web'), deps)).toEqual({ success: true });
    expect(logs.join('\n')).toMatch(/web@2\.0\.0: .*slipway\/web@sha256:[0-9a-f]{64} ← 2\.0\.0, 2\.0, 2/);
    expect(await client.listTags('slipway/web')).toEqual(['h-0123456789ab']);
    expect(calls).toEqual([]);
  });

  it('refuses an image built for another version, naming both, and tags nothing', async () => {
    const digest = await setUp('shop', '1.1.0', '1.0.0');
    expect(await runReleasePublish({}, context('shop'), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toContain(
      `shop 1.1.0 is being released, but its image ${registry.addr}/slipway/shop@${digest} was built as version 1.0.0`,
    );
    expect(await client.listTags('slipway/shop')).toEqual(['h-0123456789ab']);
  });

  it('refuses an image the registry does not have, and tags nothing', async () => {
    await setUp('gone', '1.0.0', '1.0.0');
    const record = path.join(tmp, 'dist/images/gone.json');
    const json = JSON.parse(readFileSync(record, 'utf8'));
    json.digest = `sha256:${'0'.repeat(64)}`;
    writeFileSync(record, JSON.stringify(json));
    expect(await runReleasePublish({}, context('gone'), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(/slipway\/gone@sha256:0{64} is not in the registry: push it first/);
    expect(await client.listTags('slipway/gone')).toEqual(['h-0123456789ab']);
  });
});
