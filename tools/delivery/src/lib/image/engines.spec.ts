import { BuildSpec, ENGINES, EngineProbe, formatCommand, resolveEngine } from './engines';

const spec: BuildSpec = {
  contextDir: '/ws/apps/catalog',
  dockerfile: '/ws/apps/catalog/Dockerfile',
  refs: ['r:5000/s/catalog:h-0123456789ab', 'r:5000/s/catalog:main'],
  labels: { 'org.opencontainers.image.title': 'catalog', 'org.opencontainers.image.description': 'a b' },
  buildArgs: { APP_VERSION: '1.0.0' },
  secrets: [{ id: 'npmrc', file: '/tmp/s/npmrc' }],
  platforms: [],
  push: true,
  load: false,
  cacheFrom: [],
  cacheTo: [],
  sbom: false,
  provenance: false,
  insecureRegistry: true,
  digestFile: '/tmp/w/digest',
  storageDriver: 'vfs',
};

const probe = (daemon: boolean, installed: string[]): EngineProbe => ({
  dockerDaemonAnswers: async () => daemon,
  installed: async (name) => installed.includes(name),
});

describe('engines', () => {
  it('buildah: bud with chroot isolation and vfs, then one push per tag, digest from the first', () => {
    const [build, ...pushes] = ENGINES.buildah.plan(spec);
    expect(build?.args.slice(0, 5)).toEqual(['--storage-driver', 'vfs', 'bud', '--isolation', 'chroot']);
    expect(build?.args).toEqual(
      expect.arrayContaining([
        '--layers=false',
        '--secret',
        'id=npmrc,src=/tmp/s/npmrc',
        '--tag',
        'r:5000/s/catalog:main',
      ]),
    );
    expect(build?.args.at(-1)).toBe('/ws/apps/catalog');
    expect(pushes.map((p) => p.args.slice(-2))).toEqual([
      ['r:5000/s/catalog:h-0123456789ab', 'docker://r:5000/s/catalog:h-0123456789ab'],
      ['r:5000/s/catalog:main', 'docker://r:5000/s/catalog:main'],
    ]);
    expect(pushes[0]?.args).toEqual(expect.arrayContaining(['--tls-verify=false', '--digestfile', '/tmp/w/digest']));
    expect(pushes[1]?.args).not.toContain('--digestfile');
  });

  it('podman: build with cgroupfs and layers when a cache is used', () => {
    const [build] = ENGINES.podman.plan({ ...spec, cacheFrom: ['r:5000/s/cache'], cacheTo: ['r:5000/s/cache'] });
    expect(build?.args).toEqual(
      expect.arrayContaining([
        '--cgroup-manager=cgroupfs',
        'build',
        '--layers=true',
        '--cache-from',
        'r:5000/s/cache',
        '--cache-to',
        'r:5000/s/cache',
      ]),
    );
  });

  it('multi-platform podman/buildah builds a manifest list and pushes it with --all', () => {
    const commands = ENGINES.buildah.plan({ ...spec, platforms: ['linux/amd64', 'linux/arm64'] });
    expect(commands[0]?.args).toEqual(
      expect.arrayContaining([
        '--platform',
        'linux/amd64,linux/arm64',
        '--manifest',
        'r:5000/s/catalog:h-0123456789ab',
      ]),
    );
    expect(commands[1]?.args).toEqual(expect.arrayContaining(['manifest', 'push', '--all']));
  });

  it('docker: one buildx command that pushes every tag and writes the metadata file', () => {
    const commands = ENGINES.docker.plan({
      ...spec,
      sbom: true,
      provenance: true,
      platforms: ['linux/amd64', 'linux/arm64'],
    });
    expect(commands).toHaveLength(1);
    expect(commands[0]?.args).toEqual(
      expect.arrayContaining([
        'buildx',
        'build',
        '--platform',
        'linux/amd64,linux/arm64',
        '--sbom=true',
        '--provenance=true',
        '--push',
        '--metadata-file',
        '/tmp/w/digest',
      ]),
    );
    expect(ENGINES.docker.readDigest(JSON.stringify({ 'containerimage.digest': `sha256:${'a'.repeat(64)}` }))).toBe(
      `sha256:${'a'.repeat(64)}`,
    );
  });

  it('prints commands that a shell can run as shown', () => {
    expect(formatCommand({ program: 'buildah', args: ['bud', '--label', 'k=a b', "it's"], purpose: 'build' })).toBe(
      `buildah bud --label 'k=a b' 'it'\\''s'`,
    );
  });

  it.each([
    [probe(true, ['podman', 'buildah']), 'docker'],
    [probe(false, ['podman', 'buildah']), 'podman'],
    [probe(false, ['buildah']), 'buildah'],
  ])('auto picks docker with a daemon, else podman, else buildah (%#)', async (p, expected) => {
    expect((await resolveEngine('auto', p)).name).toBe(expected);
  });

  it('names the fix when no engine is there or the name is unknown', async () => {
    await expect(resolveEngine('auto', probe(false, []))).rejects.toThrow(
      /No container engine found.*apt-get install -y buildah podman/,
    );
    await expect(resolveEngine('kaniko', probe(true, ['podman']))).rejects.toThrow(
      /Unknown engine "kaniko": use auto, docker, podman or buildah/,
    );
    await expect(resolveEngine('docker', probe(false, ['podman']))).rejects.toThrow(/docker daemon must answer/);
    await expect(resolveEngine('buildah', probe(false, ['podman']))).rejects.toThrow(/"buildah" is not installed/);
  });
});
