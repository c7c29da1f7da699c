import type { ExecutorContext } from '@nx/devkit';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FetchedManifest, RegistryClient } from '../../lib/image/registry';
import { runReleasePublish, type ReleasePublishDeps } from './executor';

const DIGEST = `sha256:${'a'.repeat(64)}`;

/** A registry holding one manifest; it records every call and every tag written. */
function fakeRegistry(calls: string[], tags: Map<string, string>): RegistryClient {
  const manifest: FetchedManifest = {
    body: Buffer.from('{}'),
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: DIGEST,
  };
  return {
    headManifest: async (_p: string, ref: string) => (
      calls.push(`head ${ref}`),
      ref === DIGEST ? { digest: DIGEST, mediaType: manifest.mediaType } : undefined
    ),
    getManifest: async (_p: string, ref: string) => (calls.push(`get ${ref}`), manifest),
    putManifest: async (_p: string, tag: string) => (calls.push(`put ${tag}`), tags.set(tag, DIGEST), DIGEST),
  } as unknown as RegistryClient;
}

describe('release-publish executor', () => {
  let root: string;
  const calls: string[] = [];
  const tags = new Map<string, string>();
  const logs: string[] = [];
  const deps: ReleasePublishDeps = {
    registry: () => fakeRegistry(calls, tags),
    env: { REGISTRY_PASSWORD: 's3cret-token' },
    log: (m) => logs.push(m),
    error: (m) => logs.push(`ERROR ${m}`),
  };
  const context = () =>
    ({
      root,
      projectName: 'catalog',
      projectsConfigurations: { version: 2, projects: { catalog: { root: 'apps/catalog' } } },
    }) as unknown as ExecutorContext;
  const writeRecord = (version: string) => {
    mkdirSync(path.join(root, 'dist/images'), { recursive: true });
    writeFileSync(
      path.join(root, 'dist/images/catalog.json'),
      JSON.stringify({
        project: 'catalog',
        image: '127.0.0.1:5000/slipway/catalog',
        tags: ['h-0123456789ab'],
        digest: DIGEST,
        contentTag: 'h-0123456789ab',
        version,
      }),
    );
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'slipway-release-publish-unit-'));
    mkdirSync(path.join(root, 'apps/catalog'), { recursive: true });
    writeFileSync(path.join(root, 'apps/catalog/package.json'), JSON.stringify({ version: '1.4.2' }));
    calls.length = 0;
    tags.clear();
    logs.length = 0;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('tags the recorded digest with the package version', async () => {
    writeRecord('1.4.2');
    expect(await runReleasePublish({}, context(), deps)).toEqual({ success: true });
    expect([...tags.keys()]).toEqual(['1.4.2', '1.4', '1']);
    expect(calls).toEqual([`head ${DIGEST}`, `get ${DIGEST}`, 'put 1.4.2', 'put 1.4', 'put 1']);
  });

  it('dry run: prints the plan, calls no registry', async () => {
    writeRecord('1.4.2');
    expect(await runReleasePublish({ dryRun: true }, context(), deps)).toEqual({ success: true });
    expect(calls).toEqual([]);
    expect(logs.join('\n')).toContain('catalog@1.4.2: 127.0.0.1:5000/slipway/catalog@');
  });

  it('without an image record: fails naming the file and the fix', async () => {
    expect(await runReleasePublish({}, context(), deps)).toEqual({ success: false });
    expect(logs.join('\n')).toMatch(/dist\/images\/catalog.json does not exist: run nx run catalog:image first/);
  });

  it('never prints the registry password', async () => {
    writeRecord('1.4.2');
    const leaky: ReleasePublishDeps = {
      ...deps,
      registry: () =>
        ({
          ...fakeRegistry(calls, tags),
          headManifest: async () => Promise.reject(new Error('401 for s3cret-token')),
        }) as unknown as RegistryClient,
    };
    expect(await runReleasePublish({}, context(), leaky)).toEqual({ success: false });
    expect(logs.join('\n')).not.toContain('s3cret-token');
  });
});
