/**
 * Real buildah, podman, docker-registry, git and Nx. Each run works in a temporary clone of the
 * repository (committed HEAD) so that edits there (a lib, orders) drive the real Nx task hash, and in a
 * registry of its own (127.0.0.1, free port, data in the temp dir), stopped by PID at the end.
 * SLIPWAY_IMAGE_IT_WORKTREE=1 overlays the working tree's apps/ and libs/ (for work not yet committed).
 */
import type { ExecutorContext } from '@nx/devkit';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WrittenImageRecord as ImageRecord } from '../../lib/image/record';
import { HttpRegistryClient } from '../../lib/image/registry';
import { runProcess } from '../../lib/shared/process';
import { hostDeps, runImageExecutor } from './executor';

const MAIN = resolve(__dirname, '../../../../..');
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const STORAGE = ['--storage-driver', 'vfs'];

let tmp: string;
let ws: string;
let registryProcess: ChildProcess | undefined;
let registryAddr: string;
let registry: HttpRegistryClient;
let nodeImage: string;
let containersConf: string;
const builtRefs: string[] = [];

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ws, encoding: 'utf8' }).trim();
}

function commitAll(message: string): string {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}

interface NxRun {
  code: number;
  output: string;
  record?: ImageRecord;
}

async function nxImage(project: string, ...extra: string[]): Promise<NxRun> {
  const result = await runProcess(
    'npx',
    [
      'nx',
      'run',
      `${project}:image`,
      '--engine=buildah',
      `--registry=${registryAddr}`,
      '--skip-sync',
      '--output-style=stream',
      ...extra,
    ],
    {
      cwd: ws,
      env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NODE_IMAGE: nodeImage, NX_TUI: 'false' },
      timeoutMs: 540_000,
    },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  const recordPath = join(ws, 'dist/images', `${project}.json`);
  const record = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as ImageRecord) : undefined;
  if (record) for (const tag of record.tags) builtRefs.push(`${record.image}:${tag}`);
  return { code: result.code, output, record };
}

const buildCommands = (output: string) => output.split('\n').filter((line) => /\$ buildah .* bud /.test(line));

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'slipway-image-it-'));
  // Registry of our own.
  const port = await freePort();
  registryAddr = `127.0.0.1:${port}`;
  const config = join(tmp, 'registry.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp, 'registry')}\nhttp:\n  addr: ${registryAddr}\n`,
  );
  registryProcess = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  registry = new HttpRegistryClient({ registry: registryAddr, insecure: true });
  await waitFor(async () => (await fetch(`http://${registryAddr}/v2/`)).status === 200, 15_000, 'the test registry');
  // Base image (assembled once, shared by every run on this machine).
  nodeImage = execFileSync(join(MAIN, 'tools/scripts/local-prereqs.sh'), ['--base-only'], { encoding: 'utf8' })
    .trim()
    .replace(/^export NODE_IMAGE=/, '');
  containersConf = join(tmp, 'containers.conf');
  writeFileSync(containersConf, '[containers]\ndefault_ulimits = []\n');
  // Workspace clone with node_modules linked from the main checkout, except the workspace packages.
  ws = join(tmp, 'ws');
  execFileSync('git', ['clone', '-q', MAIN, ws]);
  if (process.env['SLIPWAY_IMAGE_IT_WORKTREE'] === '1') {
    for (const dir of ['apps', 'libs']) {
      const skip = new Set(['node_modules', 'dist', 'out-tsc', 'test-output']);
      cpSync(join(MAIN, dir), join(ws, dir), {
        recursive: true,
        filter: (source) => !skip.has(source.split('/').pop() as string),
      });
    }
  }
  git('config', 'user.email', 'image-it@slipway.test');
  git('config', 'user.name', 'image it');
  commitAll('chore: integration test baseline');
  mkdirSync(join(ws, 'node_modules/@slipway'), { recursive: true });
  for (const entry of readdirSync(join(MAIN, 'node_modules'))) {
    if (entry !== '@slipway') symlinkSync(join(MAIN, 'node_modules', entry), join(ws, 'node_modules', entry));
  }
  for (const entry of readdirSync(join(MAIN, 'node_modules/@slipway'))) {
    const target = execFileSync('readlink', [join(MAIN, 'node_modules/@slipway', entry)], { encoding: 'utf8' }).trim();
    symlinkSync(target, join(ws, 'node_modules/@slipway', entry));
  }
}, 300_000);

afterAll(async () => {
  if (registryProcess?.pid) {
    registryProcess.kill('SIGTERM');
    await new Promise((r) => registryProcess?.once('exit', r) ?? r(undefined));
  }
  // Images this run built are tagged with this run's registry port: remove them from the shared storage.
  const unique = [...new Set(builtRefs)];
  if (unique.length > 0)
    await runProcess('buildah', [...STORAGE, 'rmi', '-f', ...unique], { timeoutMs: 120_000 }).catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 180_000);

describe('image executor with buildah, podman and a real registry', () => {
  let first: ImageRecord;
  let rebuilt: ImageRecord;

  it('builds catalog, pushes every tag, and records the digest the registry serves', async () => {
    const run = await nxImage('catalog');
    expect(run.code).toBe(0);
    first = run.record as ImageRecord;
    expect(first).toMatchObject({
      project: 'catalog',
      image: `${registryAddr}/slipway/catalog`,
      reused: false,
      engine: 'buildah',
      version: '0.0.1',
    });
    expect(first.revision).toBe(git('rev-parse', 'HEAD'));
    expect(first.contentTag).toMatch(/^h-[0-9a-z]{12}$/);
    expect(first.tags).toEqual(['main', 'latest', `sha-${first.revision.slice(0, 7)}`, first.contentTag]);
    expect(buildCommands(run.output)).toHaveLength(1);
    const served = await registry.headManifest('slipway/catalog', first.contentTag);
    expect(served?.digest).toBe(first.digest);
    expect((await registry.listTags('slipway/catalog')).sort()).toEqual([...first.tags].sort());
    for (const tag of first.tags)
      expect((await registry.headManifest('slipway/catalog', tag))?.digest).toBe(first.digest);
    const labels = await registry.getLabels('slipway/catalog', first.contentTag);
    expect(labels['org.opencontainers.image.revision']).toBe(first.revision);
    expect(labels['org.opencontainers.image.title']).toBe('catalog');
  });

  it('runs as a non-root user on a read-only root filesystem and reports its version', async () => {
    const port = 3500 + Math.floor(Math.random() * 100);
    const name = `slipway-image-it-${RUN_ID}`;
    const env = { ...process.env, CONTAINERS_CONF: containersConf };
    const podman = (...args: string[]) =>
      runProcess('podman', [...STORAGE, '--cgroup-manager=cgroupfs', ...args], { env, timeoutMs: 180_000 });
    const started = await podman(
      'run',
      '-d',
      '--name',
      name,
      '--runtime',
      'runc',
      '--network',
      'host',
      '--read-only',
      '--tmpfs',
      '/tmp',
      '--tls-verify=false',
      '-e',
      `PORT=${port}`,
      '-e',
      'HOST=127.0.0.1',
      `${first.image}@${first.digest}`,
    );
    expect(started.stderr).not.toMatch(/Error/);
    expect(started.code).toBe(0);
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/readiness`)).status === 200,
        90_000,
        'catalog readiness',
      );
      const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as {
        version: string;
        revision: string;
      };
      expect(health.version).toBe(first.version);
      expect(health.revision).toBe(first.revision);
      const user = await podman('exec', name, 'node', '-e', 'process.stdout.write(String(process.getuid()))');
      expect(user.stdout).toBe('10001');
      const write = await podman('exec', name, 'node', '-e', "require('fs').writeFileSync('/app/x','x')");
      expect(write.code).not.toBe(0);
      expect(write.stderr).toMatch(/EROFS|read-only/);
    } finally {
      await podman('rm', '-f', '-t', '2', name);
    }
  });

  it('reuses the image when nothing changed: no build, new tags added in the registry', async () => {
    const sha = commitAll('chore: empty commit, same content');
    const run = await nxImage('catalog');
    expect(run.code).toBe(0);
    expect(buildCommands(run.output)).toHaveLength(0);
    expect(run.record).toMatchObject({
      reused: true,
      contentTag: first.contentTag,
      digest: first.digest,
      revision: first.revision,
    });
    expect(run.record?.tags).toContain(`sha-${sha.slice(0, 7)}`);
    expect((await registry.headManifest('slipway/catalog', `sha-${sha.slice(0, 7)}`))?.digest).toBe(first.digest);
  });

  it('rebuilds when a lib catalog imports changes', async () => {
    appendFileSync(
      join(ws, 'libs/shared/contracts/src/index.ts'),
      `\nexport const imageIntegrationMarker = '${RUN_ID}';\n`,
    );
    commitAll('feat(contracts): marker for the image integration test');
    const run = await nxImage('catalog');
    expect(run.code).toBe(0);
    rebuilt = run.record as ImageRecord;
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.contentTag).not.toBe(first.contentTag);
    expect(rebuilt.digest).not.toBe(first.digest);
    expect(buildCommands(run.output)).toHaveLength(1);
    expect((await registry.headManifest('slipway/catalog', rebuilt.contentTag))?.digest).toBe(rebuilt.digest);
  });

  it('reuses catalog when only orders changed', async () => {
    appendFileSync(join(ws, 'apps/orders/src/main.ts'), `\n// image integration test: orders-only change ${RUN_ID}\n`);
    commitAll('chore(orders): orders-only change');
    const run = await nxImage('catalog');
    expect(run.code).toBe(0);
    expect(buildCommands(run.output)).toHaveLength(0);
    expect(run.record).toMatchObject({ reused: true, contentTag: rebuilt.contentTag, digest: rebuilt.digest });
  });

  it('dry run prints the exact command and the same content tag, and builds nothing', async () => {
    const tagsBefore = await registry.listTags('slipway/catalog');
    const run = await nxImage('catalog', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.output).toContain(`content tag ${rebuilt.contentTag}`);
    expect(run.output).toMatch(
      new RegExp(
        `buildah --storage-driver vfs bud --isolation chroot .* --tag ${registryAddr}/slipway/catalog:${rebuilt.contentTag} `,
      ),
    );
    expect(buildCommands(run.output)).toHaveLength(0);
    expect((await registry.listTags('slipway/catalog')).sort()).toEqual(tagsBefore.sort());
  });

  describe('bad input: clear message, non-zero exit, nothing pushed', () => {
    let tagsBefore: string[];
    beforeEach(async () => {
      tagsBefore = (await registry.listTags('slipway/catalog')).sort();
    });
    afterEach(async () => {
      expect((await registry.listTags('slipway/catalog')).sort()).toEqual(tagsBefore);
    });

    it('registry unreachable (through nx: non-zero exit)', async () => {
      const closed = await freePort();
      const run = await runProcess(
        'npx',
        [
          'nx',
          'run',
          'catalog:image',
          '--engine=buildah',
          `--registry=127.0.0.1:${closed}`,
          '--skip-sync',
          '--output-style=stream',
        ],
        {
          cwd: ws,
          env: { ...process.env, NX_DAEMON: 'false', NODE_IMAGE: nodeImage, NX_TUI: 'false' },
          timeoutMs: 300_000,
        },
      );
      expect(run.code).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toMatch(
        new RegExp(`Registry 127\\.0\\.0\\.1:${closed} is unreachable \\(ECONNREFUSED\\).*local-prereqs\\.sh`),
      );
      expect(buildCommands(run.stdout)).toHaveLength(0);
    });

    const context = (): ExecutorContext =>
      ({
        root: ws,
        cwd: ws,
        isVerbose: false,
        projectName: 'catalog',
        targetName: 'image',
        projectsConfigurations: { version: 2, projects: { catalog: { root: 'apps/catalog' } } },
        nxJsonConfiguration: {},
        projectGraph: { nodes: {}, dependencies: {} },
        taskGraph: {
          roots: [],
          dependencies: {},
          continuousDependencies: {},
          tasks: {
            'catalog:image': {
              id: 'catalog:image',
              target: { project: 'catalog', target: 'image' },
              overrides: {},
              outputs: [],
              hash: '0badbadbadbadbad',
              parallelism: true,
              continuous: false,
            },
          },
        },
      }) as unknown as ExecutorContext;

    async function runDirect(
      options: Record<string, unknown>,
      env: NodeJS.ProcessEnv = {},
    ): Promise<{ success: boolean; errors: string }> {
      const errors: string[] = [];
      const result = await runImageExecutor({ engine: 'buildah', registry: registryAddr, ...options }, context(), {
        ...hostDeps,
        env: { ...process.env, NODE_IMAGE: nodeImage, ...env },
        log: () => undefined,
        error: (m) => errors.push(m),
      });
      return { success: result.success, errors: errors.join('\n') };
    }

    it.each<[string, Record<string, unknown>, RegExp]>([
      ['unknown engine', { engine: 'kaniko' }, /Unknown engine "kaniko": use auto, docker, podman or buildah/],
      [
        'missing Dockerfile',
        { dockerfile: '{projectRoot}/Dockerfile.missing' },
        /Dockerfile not found: apps\/catalog\/Dockerfile\.missing/,
      ],
      [
        'invalid registry characters',
        { registry: 'https://127.0.0.1:5000/v2' },
        /Invalid registry "https:\/\/127\.0\.0\.1:5000\/v2"/,
      ],
      [
        'invalid tag characters',
        { tags: ['type=raw,value=release candidate'] },
        /Invalid image tag "release candidate".*Use "release-candidate"/,
      ],
      [
        'secret file missing',
        { secrets: [{ id: 'npmrc', file: 'apps/catalog/.npmrc-missing' }] },
        /Secret "npmrc": file apps\/catalog\/\.npmrc-missing does not exist/,
      ],
    ])('%s', async (_name, options, message) => {
      const result = await runDirect(options);
      expect(result.success).toBe(false);
      expect(result.errors).toMatch(message);
    });

    it('missing build output', async () => {
      rmSync(join(ws, 'apps/catalog/dist'), { recursive: true, force: true });
      const result = await runDirect({});
      expect(result.success).toBe(false);
      expect(result.errors).toMatch(
        /Build output missing in apps\/catalog: dist\/package\.json, dist\/package-lock\.json, dist\/\.npm-offline.*nx run catalog:image/,
      );
    });

    it('no engine installed', async () => {
      const bin = join(tmp, 'bin-without-engines');
      mkdirSync(bin, { recursive: true });
      const path = process.env['PATH'];
      process.env['PATH'] = bin; // the probes spawn engines through PATH
      try {
        const result = await runDirect({ engine: 'auto' });
        expect(result.success).toBe(false);
        expect(result.errors).toMatch(/No container engine found.*Install one/);
      } finally {
        process.env['PATH'] = path;
      }
    });
  });
});
