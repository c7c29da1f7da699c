import type { ExecutorContext } from '@nx/devkit';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerStatus, EngineCommand, EngineProbe } from '../../lib/image/engines';
import { GitFacts } from '../../lib/image/git-facts';
import { FetchedManifest, RegistryClient, RegistryUnreachableError, sha256Digest } from '../../lib/image/registry';
import { runImageExecutor, taskHashOf, type ImageExecutorDeps } from './executor';
import { FakeSupplyChain } from '../../lib/supply-chain/testing/fake-supply-chain';
import { PROVENANCE_PREDICATE_TYPE, SBOM_PREDICATE_TYPE } from '../../lib/supply-chain/types';
import { contentOverrides } from './hasher';
import type { ImageExecutorSchema } from './schema';

const SHA = 'abcdef0123456789abcdef0123456789abcdef01';
const HASH = '9876543210fedcba9876';
const CONTENT_TAG = 'h-9876543210fe';

/** In-memory registry: path -> tag -> manifest. */
class FakeRegistry implements RegistryClient {
  readonly manifests = new Map<string, FetchedManifest>();
  readonly labels = new Map<string, Record<string, string>>();
  readonly calls: string[] = [];
  unreachable = false;
  private check(call: string) {
    this.calls.push(call);
    if (this.unreachable)
      throw new RegistryUnreachableError(
        'Registry 127.0.0.1:5999 is unreachable (ECONNREFUSED): start it or pass --registry.',
      );
  }
  seed(path: string, tag: string, labels: Record<string, string>) {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, tag }));
    this.manifests.set(`${path}:${tag}`, {
      body,
      digest: sha256Digest(body),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    this.labels.set(sha256Digest(body), labels);
    return sha256Digest(body);
  }
  async headManifest(path: string, ref: string) {
    this.check(`HEAD ${path}:${ref}`);
    const m = this.manifests.get(`${path}:${ref}`);
    return m ? { digest: m.digest, mediaType: m.mediaType } : undefined;
  }
  async getManifest(path: string, ref: string) {
    this.check(`GET ${path}:${ref}`);
    const m = this.manifests.get(`${path}:${ref}`);
    if (!m) throw new Error('not found');
    return m;
  }
  async putManifest(path: string, tag: string, manifest: FetchedManifest) {
    this.check(`PUT ${path}:${tag}`);
    this.manifests.set(`${path}:${tag}`, manifest);
    return manifest.digest;
  }
  async getLabels(path: string, ref: string) {
    this.check(`LABELS ${path}:${ref}`);
    return this.labels.get(this.manifests.get(`${path}:${ref}`)?.digest ?? '') ?? {};
  }
  async listTags(path: string) {
    return [...this.manifests.keys()].filter((k) => k.startsWith(`${path}:`)).map((k) => k.slice(path.length + 1));
  }
}

const noDocker: DockerStatus = {
  cli: false,
  host: 'unix:///var/run/docker.sock',
  buildx: { ok: false, detail: 'no docker CLI' },
  daemon: { ok: false, detail: 'no docker CLI' },
};

interface Harness {
  root: string;
  registry: FakeRegistry;
  commands: EngineCommand[];
  logs: string[];
  errors: string[];
  deps: ImageExecutorDeps;
  context: ExecutorContext;
  engineExit: number;
  supplyChain: FakeSupplyChain;
}

function harness(env: NodeJS.ProcessEnv = {}): Harness {
  const root = mkdtempSync(join(tmpdir(), 'slipway-image-exec-'));
  mkdirSync(join(root, 'apps/svc/dist'), { recursive: true });
  writeFileSync(
    join(root, 'apps/svc/package.json'),
    JSON.stringify({ name: '@x/svc', version: '1.4.0', description: 'A service', license: 'MIT' }),
  );
  writeFileSync(
    join(root, 'apps/svc/Dockerfile'),
    'ARG NODE_IMAGE=node:22-alpine\nFROM ${NODE_IMAGE}\nCOPY dist/ /app/\n',
  );
  writeFileSync(join(root, 'apps/svc/dist/main.js'), '');
  const registry = new FakeRegistry();
  const h: Harness = {
    root,
    registry,
    commands: [],
    logs: [],
    errors: [],
    engineExit: 0,
    supplyChain: new FakeSupplyChain(),
    context: {
      root,
      cwd: root,
      isVerbose: false,
      projectName: 'svc',
      targetName: 'image',
      projectsConfigurations: { version: 2, projects: { svc: { root: 'apps/svc' } } },
      nxJsonConfiguration: {},
      projectGraph: { nodes: {}, dependencies: {} },
      taskGraph: {
        roots: ['svc:image'],
        dependencies: {},
        continuousDependencies: {},
        tasks: {
          'svc:image': {
            id: 'svc:image',
            target: { project: 'svc', target: 'image' },
            overrides: {},
            outputs: [],
            hash: HASH,
            parallelism: true,
            continuous: false,
          },
        },
      },
    } as unknown as ExecutorContext,
    deps: undefined as unknown as ImageExecutorDeps,
  };
  const probe: EngineProbe = {
    docker: async () => noDocker,
    installed: async (name) => name === 'buildah',
    dockerPlatforms: async () => ({ builder: 'none', platforms: [] }),
  };
  h.deps = {
    probe,
    registry: () => registry,
    run: async (command) => {
      h.commands.push(command);
      if (h.engineExit !== 0)
        return { code: h.engineExit, stdout: '', stderr: 'error: something broke\n', timedOut: false };
      if (command.purpose === 'push') {
        const ref = command.args.at(-2) as string;
        const [path, tag] = ref.slice(ref.indexOf('/') + 1).split(':') as [string, string];
        const body = Buffer.from(JSON.stringify({ built: 'once' }));
        registry.manifests.set(`${path}:${tag}`, {
          body,
          digest: sha256Digest(body),
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
        });
        const digestIndex = command.args.indexOf('--digestfile');
        if (digestIndex >= 0) writeFileSync(command.args[digestIndex + 1] as string, sha256Digest(body));
      }
      return { code: 0, stdout: '', stderr: '', timedOut: false };
    },
    gitFacts: async (): Promise<GitFacts> => ({
      sha: SHA,
      event: 'local',
      ref: 'refs/heads/main',
      branch: 'main',
      defaultBranch: 'main',
      repositoryUrl: 'https://example.test/acme/slipway',
    }),
    env,
    now: () => new Date('2026-01-02T03:04:05.000Z'),
    log: (m) => h.logs.push(m),
    error: (m) => h.errors.push(m),
    supplyChain: () => ({ signer: h.supplyChain, verifier: h.supplyChain, sbom: h.supplyChain }),
  };
  return h;
}

const base: ImageExecutorSchema = {
  engine: 'buildah',
  registry: '127.0.0.1:5055',
  tags: ['type=sha', 'type=ref,event=branch'],
};
const recordFile = (h: Harness) => join(h.root, 'dist/images/svc.json');

describe('image executor', () => {
  let h: Harness;
  afterEach(() => rmSync(h.root, { recursive: true, force: true }));

  it('builds and pushes every tag when the content tag is not in the registry, then records the registry digest', async () => {
    h = harness({ NODE_IMAGE: 'localhost/base:1' });
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(true);
    expect(h.commands.map((c) => c.purpose)).toEqual(['build', 'push', 'push', 'push']);
    const build = h.commands[0]?.args ?? [];
    expect(build).toEqual(
      expect.arrayContaining([
        'bud',
        '--build-arg',
        'NODE_IMAGE=localhost/base:1',
        '--build-arg',
        'APP_VERSION=1.4.0',
        '--build-arg',
        `APP_REVISION=${SHA}`,
      ]),
    );
    expect(build).toEqual(
      expect.arrayContaining([
        '--label',
        'org.opencontainers.image.licenses=MIT',
        '--label',
        'org.opencontainers.image.source=https://example.test/acme/slipway',
      ]),
    );
    expect(build.filter((a) => a.startsWith('org.opencontainers.image.'))).toHaveLength(8);
    const record = JSON.parse(readFileSync(recordFile(h), 'utf8'));
    expect(record).toEqual({
      project: 'svc',
      image: '127.0.0.1:5055/slipway/svc',
      tags: ['main', 'sha-abcdef0', CONTENT_TAG],
      digest: h.registry.manifests.get(`slipway/svc:${CONTENT_TAG}`)?.digest,
      contentTag: CONTENT_TAG,
      revision: SHA,
      version: '1.4.0',
      builtAt: '2026-01-02T03:04:05.000Z',
      reused: false,
      engine: 'buildah',
    });
    expect(Object.keys(record)).toEqual([
      'project',
      'image',
      'tags',
      'digest',
      'contentTag',
      'revision',
      'version',
      'builtAt',
      'reused',
      'engine',
    ]);
  });

  it('reuses an image whose content tag exists: no build, tags added remotely, revision from the image labels', async () => {
    h = harness();
    const digest = h.registry.seed('slipway/svc', CONTENT_TAG, {
      'org.opencontainers.image.revision': '1111111111111111111111111111111111111111',
      'org.opencontainers.image.version': '1.3.0',
      'org.opencontainers.image.created': '2025-12-31T00:00:00.000Z',
    });
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(true);
    expect(h.commands).toHaveLength(0);
    expect(h.registry.manifests.get('slipway/svc:main')?.digest).toBe(digest);
    expect(h.registry.manifests.get('slipway/svc:sha-abcdef0')?.digest).toBe(digest);
    expect(result.record).toMatchObject({
      reused: true,
      digest,
      revision: '1111111111111111111111111111111111111111',
      version: '1.3.0',
      builtAt: '2025-12-31T00:00:00.000Z',
    });
    expect(h.logs.join('\n')).toMatch(/reused .*no build; tags added: main sha-abcdef0/);
  });

  it('dry run prints the exact commands and tags and touches neither engine, registry nor record', async () => {
    h = harness();
    const result = await runImageExecutor({ ...base, dryRun: true }, h.context, h.deps);
    expect(result.success).toBe(true);
    expect(h.commands).toHaveLength(0);
    expect(h.registry.calls).toHaveLength(0);
    expect(existsSync(recordFile(h))).toBe(false);
    const out = h.logs.join('\n');
    expect(out).toContain(`tags main sha-abcdef0 ${CONTENT_TAG}`);
    expect(out).toMatch(/^buildah --storage-driver vfs bud --isolation chroot/m);
    expect(out).toMatch(
      /^buildah --storage-driver vfs push --tls-verify=false .*docker:\/\/127\.0\.0\.1:5055\/slipway\/svc:main$/m,
    );
  });

  it('passes secrets as files and never prints their values', async () => {
    h = harness({ NPM_TOKEN: 'tok-super-secret-value' });
    writeFileSync(join(h.root, 'apps/svc/secret.txt'), 'file-secret-value-123');
    const result = await runImageExecutor(
      {
        ...base,
        dryRun: true,
        secrets: [
          { id: 'npm', env: 'NPM_TOKEN' },
          { id: 'other', file: 'apps/svc/secret.txt' },
        ],
      },
      h.context,
      h.deps,
    );
    expect(result.success).toBe(true);
    const out = h.logs.join('\n');
    expect(out).not.toContain('tok-super-secret-value');
    expect(out).not.toContain('file-secret-value-123');
    expect(out).toMatch(/--secret id=npm,src=\/\S+\/npm/);
    expect(out).toContain(`--secret id=other,src=${join(h.root, 'apps/svc/secret.txt')}`);
  });

  it('never prints registry credentials and hands them to the engine in an auth file', async () => {
    h = harness({ REGISTRY_USERNAME: 'robot', REGISTRY_PASSWORD: 'pa55-word-xyz' });
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(true);
    const push = h.commands.find((c) => c.purpose === 'push');
    expect(push?.args).toContain('--authfile');
    expect(JSON.stringify(h.commands)).not.toContain('pa55-word-xyz');
    expect(h.logs.join('\n')).not.toContain('pa55-word-xyz');
  });

  it.each<[string, (h: Harness) => ImageExecutorSchema, RegExp]>([
    [
      'unknown engine',
      () => ({ ...base, engine: 'kaniko' as ImageExecutorSchema['engine'] }),
      /Unknown engine "kaniko": use auto, docker, podman or buildah/,
    ],
    [
      'no engine installed',
      (x) => ((x.deps.probe = { ...x.deps.probe, installed: async () => false }), { ...base, engine: 'auto' }),
      /No container engine found/,
    ],
    [
      'missing Dockerfile',
      (x) => (rmSync(join(x.root, 'apps/svc/Dockerfile')), base),
      /Dockerfile not found: apps\/svc\/Dockerfile\. Create it, or point the "dockerfile" option/,
    ],
    [
      'missing build output',
      (x) => (rmSync(join(x.root, 'apps/svc/dist'), { recursive: true }), base),
      /Build output missing in apps\/svc: dist .*nx run svc:image/,
    ],
    [
      'invalid registry',
      () => ({ ...base, registry: 'http://127.0.0.1:5055' }),
      /Invalid registry "http:\/\/127\.0\.0\.1:5055"/,
    ],
    ['invalid repository', () => ({ ...base, repository: 'Bad Repo' }), /Invalid repository "Bad Repo"/],
    [
      'invalid tag characters',
      () => ({ ...base, tags: ['type=raw,value=v1 beta'] }),
      /Invalid image tag "v1 beta".*Use "v1-beta" instead/,
    ],
    ['invalid tag rule', () => ({ ...base, tags: ['type=ref'] }), /type=ref needs event=branch/],
    [
      'secret file missing',
      () => ({ ...base, secrets: [{ id: 'npm', file: 'nope/.npmrc' }] }),
      /Secret "npm": file nope\/\.npmrc does not exist/,
    ],
    [
      'secret env unset',
      () => ({ ...base, secrets: [{ id: 'npm', env: 'NOT_SET_ANYWHERE' }] }),
      /environment variable NOT_SET_ANYWHERE is not set/,
    ],
    ['registry unreachable', (x) => ((x.registry.unreachable = true), base), /unreachable \(ECONNREFUSED\)/],
  ])('bad input: %s → clear message, failure, no build, no push, no record', async (_name, arrange, message) => {
    h = harness();
    const options = arrange(h);
    const result = await runImageExecutor(options, h.context, h.deps);
    expect(result.success).toBe(false);
    expect(h.errors.join('\n')).toMatch(message);
    expect(h.commands).toHaveLength(0);
    expect(h.registry.calls.filter((c) => c.startsWith('PUT'))).toHaveLength(0);
    expect(existsSync(recordFile(h))).toBe(false);
  });

  it('reports an engine failure with its output and writes no record', async () => {
    h = harness();
    h.engineExit = 2;
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(false);
    expect(h.errors.join('\n')).toMatch(/buildah build failed with exit code 2:\nerror: something broke/);
    expect(h.commands).toHaveLength(1);
    expect(existsSync(recordFile(h))).toBe(false);
  });

  it('says first which engine it chose and why', async () => {
    h = harness();
    await runImageExecutor({ ...base, engine: 'auto' }, h.context, h.deps);
    expect(h.logs[0]).toMatch(
      /^engine buildah \(auto\): docker is not usable \(the docker CLI is not installed\) and podman is not installed; buildah is installed$/,
    );
  });

  it('a registry that refuses the push: names the engine, the cause and the fix; no record', async () => {
    h = harness();
    const run = h.deps.run;
    h.deps.run = async (command, secrets, cwd) =>
      command.purpose === 'push'
        ? {
            code: 125,
            stdout: '',
            stderr: 'Error: writing blob: initiating layer upload: 405 Method Not Allowed\n',
            timedOut: false,
          }
        : run(command, secrets, cwd);
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(false);
    expect(h.errors.join('\n')).toMatch(
      /buildah push failed with exit code 125: the registry 127\.0\.0\.1:5055 refused the push from buildah .*Fix: push to a registry that accepts writes/,
    );
    expect(existsSync(recordFile(h))).toBe(false);
  });

  it('push=false builds locally without registry or record', async () => {
    h = harness();
    const result = await runImageExecutor({ ...base, push: false }, h.context, h.deps);
    expect(result.success).toBe(true);
    expect(h.commands.map((c) => c.purpose)).toEqual(['build']);
    expect(h.registry.calls).toHaveLength(0);
    expect(existsSync(recordFile(h))).toBe(false);
  });

  describe('signing after the push', () => {
    const withKey = (env: NodeJS.ProcessEnv = {}) => {
      const made = harness({ SLIPWAY_COSIGN_PASSWORD: 'right', ...env });
      mkdirSync(join(made.root, '.local/cosign'), { recursive: true });
      writeFileSync(join(made.root, '.local/cosign/cosign.key'), 'private');
      writeFileSync(join(made.root, '.local/cosign/cosign.pub'), 'public');
      return made;
    };

    it('signs the pushed digest, attests SBOM and provenance, and names both in the record', async () => {
      h = withKey();
      expect((await runImageExecutor(base, h.context, h.deps)).success).toBe(true);
      const record = JSON.parse(readFileSync(recordFile(h), 'utf8'));
      const pinned = `127.0.0.1:5055/slipway/svc@${record.digest}`;
      expect(h.supplyChain.calls).toEqual(
        expect.arrayContaining([
          `sign ${pinned}`,
          `sbom ${pinned}`,
          `attest ${SBOM_PREDICATE_TYPE} ${pinned}`,
          `attest ${PROVENANCE_PREDICATE_TYPE} ${pinned}`,
        ]),
      );
      expect(record.signature).toEqual({
        reference: `127.0.0.1:5055/slipway/svc:${record.digest.replace(':', '-')}.sig`,
        signer: `key ${join(h.root, '.local/cosign/cosign.pub')}`,
        signedThisRun: true,
      });
      expect(record.attestations).toMatchObject({
        reference: `127.0.0.1:5055/slipway/svc:${record.digest.replace(':', '-')}.att`,
        predicateTypes: [SBOM_PREDICATE_TYPE, PROVENANCE_PREDICATE_TYPE],
      });
    });

    it('a reused image already signed by this key is verified, not signed again', async () => {
      h = withKey();
      expect((await runImageExecutor(base, h.context, h.deps)).success).toBe(true);
      h.supplyChain.calls.length = 0;
      expect((await runImageExecutor(base, h.context, h.deps)).success).toBe(true);
      const record = JSON.parse(readFileSync(recordFile(h), 'utf8'));
      expect(record.reused).toBe(true);
      expect(record.signature.signedThisRun).toBe(false);
      expect(h.supplyChain.calls.filter((c) => !c.startsWith('verify') && c !== 'preflight')).toEqual([]);
      expect(h.logs.join('\n')).toMatch(/verified .*already signed .*not signed again/);
    });

    it('a wrong key password fails before anything is built or pushed and is never printed', async () => {
      h = withKey({ SLIPWAY_COSIGN_PASSWORD: 'wrong-password-123' });
      expect((await runImageExecutor(base, h.context, h.deps)).success).toBe(false);
      expect(h.commands).toEqual([]);
      expect(h.registry.manifests.size).toBe(0);
      expect(existsSync(recordFile(h))).toBe(false);
      const output = [...h.logs, ...h.errors].join('\n');
      expect(output).toMatch(/password for signing key .* is wrong/);
      expect(output).not.toContain('wrong-password-123');
    });

    it('signing=key without the key file: clear error, nothing pushed', async () => {
      h = harness();
      expect((await runImageExecutor({ ...base, signing: 'key' }, h.context, h.deps)).success).toBe(false);
      expect(h.commands).toEqual([]);
      expect(h.errors.join('\n')).toMatch(/signing key .*cosign.key does not exist[\s\S]*setup.sh/);
    });

    it('auto without a key pushes unsigned with a warning; the record names no signature', async () => {
      h = harness();
      expect((await runImageExecutor(base, h.context, h.deps)).success).toBe(true);
      expect(h.logs.join('\n')).toMatch(/warning: no signing key at .local\/cosign\/cosign.key/);
      expect(JSON.parse(readFileSync(recordFile(h), 'utf8')).signature).toBeUndefined();
    });
  });

  it('fails without an Nx task hash', async () => {
    h = harness();
    (h.context.taskGraph as { tasks: Record<string, { hash?: string }> }).tasks['svc:image'] = {
      hash: undefined,
    } as never;
    const result = await runImageExecutor(base, h.context, h.deps);
    expect(result.success).toBe(false);
    expect(h.errors.join('\n')).toMatch(/No Nx task hash for svc:image/);
  });
});

describe('task hash and hasher', () => {
  it('finds the hash of the running task, with or without configuration', () => {
    const task = (id: string, hash: string) => ({ id, hash, target: { project: 'svc', target: 'image' } });
    const context = (tasks: object, configurationName?: string) =>
      ({
        projectName: 'svc',
        targetName: 'image',
        configurationName,
        taskGraph: { tasks },
      }) as unknown as ExecutorContext;
    expect(taskHashOf(context({ 'svc:image': task('svc:image', 'aaa'), 'svc:build': { hash: 'bbb' } }))).toBe('aaa');
    expect(taskHashOf(context({ 'svc:image:ci': task('svc:image:ci', 'ccc') }, 'ci'))).toBe('ccc');
  });

  it('leaves publishing-only options out of the content hash and keeps the rest', () => {
    expect(
      contentOverrides({ dryRun: true, tags: ['x'], engine: 'podman', buildArgs: { A: '1' }, target: 'runtime' }),
    ).toEqual({ buildArgs: { A: '1' }, target: 'runtime' });
    expect(
      contentOverrides({ __overrides_unparsed__: ['--dry-run', '--registry=x', '--platforms=linux/arm64'] }),
    ).toEqual({ __overrides_unparsed__: ['--platforms=linux/arm64'] });
  });
});
