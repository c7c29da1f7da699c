import {
  BuildSpec,
  DockerStatus,
  ENGINES,
  EngineProbe,
  chooseEngine,
  formatCommand,
  parseBuildxInspect,
} from './engines';
import { explainEngineFailure } from './engine-failure';

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

const dockerStatus = (daemon: boolean, buildx = true): DockerStatus => ({
  cli: true,
  host: 'unix:///x/docker.sock',
  daemon: daemon
    ? { ok: true, detail: '20.10.24' }
    : {
        ok: false,
        detail: 'Cannot connect to the Docker daemon at unix:///x/docker.sock. Is the docker daemon running?',
      },
  buildx: buildx
    ? { ok: true, detail: 'github.com/docker/buildx v0.38.2' }
    : { ok: false, detail: 'unknown command: docker buildx' },
});

const probe = (daemon: boolean, installed: string[], buildx = true, platforms = ['linux/amd64']): EngineProbe => ({
  docker: async () => dockerStatus(daemon, buildx),
  installed: async (name) => installed.includes(name),
  dockerPlatforms: async () => ({ builder: 'slipway', platforms }),
});
const resolveEngine = async (requested: string, p: EngineProbe) => (await chooseEngine(requested, p)).engine;

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

  it('passes the network mode of RUN steps to every engine', () => {
    for (const engine of [ENGINES.docker, ENGINES.podman, ENGINES.buildah]) {
      const [build] = engine.plan({ ...spec, network: 'host' });
      expect(build?.args.join(' ')).toContain('--network host');
      expect(engine.plan(spec)[0]?.args).not.toContain('--network');
    }
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
    await expect(resolveEngine('buildah', probe(false, ['podman']))).rejects.toThrow(/"buildah" is not installed/);
  });

  it('auto says which engine it chose and why', async () => {
    expect((await chooseEngine('auto', probe(true, ['podman']))).reason).toBe(
      'engine docker (auto): a docker daemon (20.10.24) answers at unix:///x/docker.sock and buildx works (github.com/docker/buildx v0.38.2)',
    );
    expect((await chooseEngine('auto', probe(false, ['podman']))).reason).toMatch(
      /^engine podman \(auto\): docker is not usable \(no docker daemon answers at unix:\/\/\/x\/docker\.sock .*\); podman is installed$/,
    );
    expect((await chooseEngine('auto', probe(true, ['buildah'], false))).reason).toMatch(
      /^engine buildah \(auto\): docker is not usable \(the buildx plugin is missing .*\) and podman is not installed; buildah is installed$/,
    );
  });

  it('auto picks docker only when the daemon answers AND buildx works', async () => {
    expect((await resolveEngine('auto', probe(true, ['podman'], false))).name).toBe('podman');
    expect((await resolveEngine('auto', probe(false, ['podman'], true))).name).toBe('podman');
  });

  it('docker refused: names the engine, the cause and the fix', async () => {
    await expect(resolveEngine('docker', probe(false, ['podman']))).rejects.toThrow(
      /^Engine "docker" is not usable: no docker daemon answers at unix:\/\/\/x\/docker\.sock \(Cannot connect.*\)\. Fix: start one with eval "\$\(bash tools\/scripts\/docker\.sh start\)"/,
    );
    await expect(resolveEngine('docker', probe(true, ['podman'], false))).rejects.toThrow(
      /^Engine "docker" is not usable: the buildx plugin is missing \("docker buildx version": unknown command: docker buildx\)\. Fix: eval .*docker\.sh start.* installs a pinned buildx/,
    );
  });

  it('refuses a platform the docker builder cannot build, before anything runs', async () => {
    const p = probe(true, [], true, ['linux/amd64', 'linux/amd64/v2', 'linux/arm64']);
    await expect(chooseEngine('docker', p, ['linux/amd64', 'linux/arm64/v8'])).resolves.toBeDefined();
    await expect(chooseEngine('docker', p, ['linux/amd64', 'linux/riscv64'])).rejects.toThrow(
      /^Engine "docker": buildx builder "slipway" cannot build linux\/riscv64 \(it builds linux\/amd64, linux\/amd64\/v2, linux\/arm64\)\. Fix: register QEMU user emulation/,
    );
  });

  it('reads the builder and its platforms from buildx inspect', () => {
    const out = [
      'Name:          slipway',
      'Driver:        remote',
      '',
      'Nodes:',
      'Name:      slipway0',
      'Endpoint:  unix:///w/.local/docker/buildkitd.sock',
      'Status:    running',
      'Platforms: linux/amd64*, linux/amd64/v2, linux/arm64',
    ].join('\n');
    expect(parseBuildxInspect(out)).toEqual({
      builder: 'slipway',
      platforms: ['linux/amd64', 'linux/amd64/v2', 'linux/arm64'],
    });
  });

  it('explains a refused push, a platform it cannot run and a daemon that went away', () => {
    expect(
      explainEngineFailure(
        'docker',
        'ERROR: failed to push 127.0.0.1:1/s/c:h-1: unexpected status from PUT request: 405 Method Not Allowed',
        '127.0.0.1:1',
      ),
    ).toMatch(
      /^the registry 127\.0\.0\.1:1 refused the push from docker .*Fix: push to a registry that accepts writes/,
    );
    expect(
      explainEngineFailure(
        'buildah',
        'Error: writing blob: ... denied: requested access to the resource is denied',
        'r',
      ),
    ).toMatch(/refused the push from buildah/);
    expect(
      explainEngineFailure(
        'podman',
        'writing blob: initiating layer upload to /v2/s/c/blobs/uploads/ in r: StatusCode: 405, Method not allowed',
        'r',
      ),
    ).toMatch(/refused the push from podman/);
    expect(
      explainEngineFailure(
        'docker',
        'ERROR: failed to build: error parsing HTTP 405 response body: invalid character \'M\' looking for beginning of value: "Method not allowed\\n"',
        'r',
      ),
    ).toMatch(/refused the push from docker/);
    expect(explainEngineFailure('docker', 'exec /bin/sh: exec format error', 'r')).toMatch(
      /^docker ran a RUN step for a platform this machine cannot execute.*qemu-user-static/,
    );
    expect(explainEngineFailure('docker', 'ERROR: Cannot connect to the Docker daemon at unix:///x', 'r')).toMatch(
      /docker lost its daemon.*docker\.sh start/,
    );
    expect(
      explainEngineFailure(
        'docker',
        'ERROR: docker.io/docker/buildkit-syft-scanner:stable-1: dial tcp: lookup registry-1.docker.io',
        'r',
      ),
    ).toMatch(/^docker could not run BuildKit's SBOM scanner image .*Fix: .*or build without --sbom/);
    expect(explainEngineFailure('docker', 'error: something broke', 'r')).toBeUndefined();
  });
});
