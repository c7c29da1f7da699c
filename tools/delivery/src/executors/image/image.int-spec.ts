/**
 * Real docker (a private dockerd + buildx + BuildKit, tools/scripts/docker.sh), podman, buildah,
 * docker-registry, git and Nx: ONE suite whose cases run on every engine (describe.each). Each run works
 * in a temporary clone of the repository (committed HEAD) so that edits there (a lib, orders) drive the
 * real Nx task hash, and in a registry of its own (127.0.0.1, free port, data in the temp dir), stopped by
 * PID at the end. Each engine pushes under its own owner (<engine>/catalog) so no engine reuses another's.
 * The docker daemons run with their state in the temp dir: started here, stopped here.
 *   SLIPWAY_IMAGE_IT_ENGINES=docker,podman,buildah   which engines (default: all three)
 *   SLIPWAY_IMAGE_IT_WORKTREE=1   overlay the working tree's apps/ and libs/ (for work not yet committed)
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
import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { changesFromImageRecords } from '../../lib/gitops/bump-request';
import { EngineName } from '../../lib/image/engines';
import type { WrittenImageRecord as ImageRecord } from '../../lib/image/record';
import { HttpRegistryClient } from '../../lib/image/registry';
import { runProcess } from '../../lib/shared/process';
import { ImageExecutorDeps, hostDeps, runImageExecutor } from './executor';

const MAIN = resolve(__dirname, '../../../../..');
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const STORAGE = ['--storage-driver', 'vfs'];
const ENGINES_UNDER_TEST = (process.env['SLIPWAY_IMAGE_IT_ENGINES'] ?? 'docker,podman,buildah')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean) as EngineName[];

let tmp: string;
let ws: string;
const registries: ChildProcess[] = [];
let registryAddr: string;
let registry: HttpRegistryClient;
/** NODE_IMAGE per engine: podman/buildah read the base from their storage, docker from the registry. */
const nodeImage: Partial<Record<EngineName, string>> = {};
let baseDiffIds: string[];
let containersConf: string;
/** The exports of tools/scripts/docker.sh start (DOCKER_HOST, DOCKER_CONFIG, BUILDX_BUILDER). */
const dockerEnv: Record<string, string> = {};
let dockerStateDir: string | undefined;
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

/** A docker-registry of our own on a free loopback port; `readonly` refuses every push (405). */
async function startRegistry(name: string, readonly = false): Promise<string> {
  const addr = `127.0.0.1:${await freePort()}`;
  const config = join(tmp, `${name}.yml`);
  const maintenance = readonly ? '  maintenance:\n    readonly:\n      enabled: true\n' : '';
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp, name)}\n${maintenance}http:\n  addr: ${addr}\n`,
  );
  registries.push(spawn('docker-registry', ['serve', config], { stdio: 'ignore' }));
  await waitFor(async () => (await fetch(`http://${addr}/v2/`)).status === 200, 15_000, `registry ${name}`);
  return addr;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: ws, encoding: 'utf8' }).trim();
}

function commitAll(message: string): string {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
  return git('rev-parse', 'HEAD');
}

/**
 * docker runs its cases on dockerd's own BuildKit (the buildx `docker` driver, builder "default"); the
 * cases Engine 20.10's BuildKit cannot do (several platforms, attestations) use the `remote` builder
 * docker.sh exports as BUILDX_BUILDER, backed by a standalone buildkitd.
 */
const engineEnv = (engine: EngineName): NodeJS.ProcessEnv => ({
  ...process.env,
  ...(engine === 'docker' ? { ...dockerEnv, BUILDX_BUILDER: 'default' } : {}),
  NODE_IMAGE: nodeImage[engine],
});
const remoteBuilder = (engine: EngineName): NodeJS.ProcessEnv =>
  engine === 'docker' ? { BUILDX_BUILDER: dockerEnv['BUILDX_BUILDER'] } : {};

interface NxRun {
  code: number;
  output: string;
  record?: ImageRecord;
}

async function nxImage(engine: EngineName, project: string, ...extra: string[]): Promise<NxRun> {
  const result = await runProcess(
    'npx',
    [
      'nx',
      'run',
      `${project}:image`,
      `--engine=${engine}`,
      `--owner=${engine}`,
      `--registry=${registryAddr}`,
      // The private dockerd has no bridge; host is also the podman/buildah default with chroot isolation.
      '--network=host',
      '--skip-sync',
      '--output-style=stream',
      ...extra,
    ],
    {
      cwd: ws,
      env: { ...engineEnv(engine), NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
      timeoutMs: 900_000,
    },
  );
  const output = `${result.stdout}\n${result.stderr}`;
  const recordPath = join(ws, 'dist/images', `${project}.json`);
  const record = existsSync(recordPath) ? (JSON.parse(readFileSync(recordPath, 'utf8')) as ImageRecord) : undefined;
  if (record) for (const tag of record.tags) builtRefs.push(`${record.image}:${tag}`);
  return { code: result.code, output, record };
}

const BUILD_LINE: Record<EngineName, RegExp> = {
  buildah: /\$ buildah .* bud /,
  podman: /\$ podman .* build /,
  docker: /\$ (DOCKER_CONFIG=\S+ )?docker buildx build /,
};
const buildCommands = (engine: EngineName, output: string) =>
  output.split('\n').filter((line) => BUILD_LINE[engine].test(line));

/** The registry's blobs, read directly (layers and configs). */
async function blob(addr: string, path: string, digest: string): Promise<Buffer> {
  const response = await fetch(`http://${addr}/v2/${path}/blobs/${digest}`);
  if (!response.ok) throw new Error(`GET blob ${path}@${digest}: ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

interface Manifest {
  mediaType?: string;
  manifests?: {
    digest: string;
    platform?: { os: string; architecture: string };
    annotations?: Record<string, string>;
  }[];
  config?: { digest: string };
  layers?: { digest: string; mediaType: string }[];
}

async function manifestAt(addr: string, path: string, reference: string): Promise<Manifest> {
  const client = new HttpRegistryClient({ registry: addr, insecure: true });
  return JSON.parse((await client.getManifest(path, reference)).body.toString('utf8')) as Manifest;
}

/** Every layer of an image manifest, uncompressed (tar bytes, searchable for file contents). */
async function layerTars(addr: string, path: string, manifest: Manifest): Promise<Buffer[]> {
  const tars: Buffer[] = [];
  for (const layer of manifest.layers ?? []) {
    const bytes = await blob(addr, path, layer.digest);
    tars.push(layer.mediaType.endsWith('gzip') ? gunzipSync(bytes) : bytes);
  }
  return tars;
}

async function configOf(addr: string, path: string, manifest: Manifest): Promise<{ rootfs: { diff_ids: string[] } }> {
  return JSON.parse((await blob(addr, path, manifest.config?.digest as string)).toString('utf8'));
}

/** Start the private docker stack with its state in our temp dir (so stop stops exactly it). */
async function startDocker(): Promise<void> {
  dockerStateDir = join(tmp, 'docker');
  const started = await runProcess('bash', [join(MAIN, 'tools/scripts/docker.sh'), 'start'], {
    env: { ...process.env, SLIPWAY_DOCKER_DIR: dockerStateDir },
    timeoutMs: 1_800_000, // the first run on a machine builds buildx and buildkitd from the Go module proxy
  });
  if (started.code !== 0) throw new Error(`tools/scripts/docker.sh start failed:\n${started.stderr}`);
  for (const line of started.stdout.split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) dockerEnv[match[1] as string] = match[2] as string;
  }
  expect(Object.keys(dockerEnv).sort()).toEqual(['BUILDX_BUILDER', 'DOCKER_CONFIG', 'DOCKER_HOST']);
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'slipway-image-it-'));
  registryAddr = await startRegistry('registry');
  registry = new HttpRegistryClient({ registry: registryAddr, insecure: true });
  // Base image (assembled once, shared by every run on this machine).
  const localBase = execFileSync(join(MAIN, 'tools/scripts/local-prereqs.sh'), ['--base-only'], { encoding: 'utf8' })
    .trim()
    .replace(/^export NODE_IMAGE=/, '');
  nodeImage.podman = localBase;
  nodeImage.buildah = localBase;
  baseDiffIds = (
    JSON.parse(
      execFileSync('buildah', [...STORAGE, 'inspect', '--type', 'image', localBase], { encoding: 'utf8' }),
    ) as {
      OCIv1: { rootfs: { diff_ids: string[] } };
    }
  ).OCIv1.rootfs.diff_ids;
  if (ENGINES_UNDER_TEST.includes('docker')) {
    // Docker cannot read the containers storage: it gets the same base from the registry.
    const inRegistry = `${registryAddr}/slipway/node-base:${localBase.split(':').pop()}`;
    execFileSync('buildah', [...STORAGE, 'push', '--quiet', '--tls-verify=false', localBase, `docker://${inRegistry}`]);
    nodeImage.docker = inRegistry;
  }
  // Also for podman/buildah: docker.sh registers the QEMU user emulation the multi-platform case needs.
  await startDocker();
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
}, 2_400_000);

afterAll(async () => {
  for (const child of registries) {
    if (!child.pid || child.exitCode !== null) continue;
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  if (dockerStateDir) {
    const stopped = await runProcess('bash', [join(MAIN, 'tools/scripts/docker.sh'), 'stop'], {
      env: { ...process.env, SLIPWAY_DOCKER_DIR: dockerStateDir },
      timeoutMs: 120_000,
    });
    if (stopped.code !== 0) console.error(`docker.sh stop failed:\n${stopped.stderr}`);
  }
  // Images this run built are tagged with this run's registry port: remove them from the shared storage.
  const unique = [...new Set(builtRefs)].filter((ref) => !ref.includes('/docker/'));
  if (unique.length > 0)
    await runProcess('buildah', [...STORAGE, 'rmi', '-f', ...unique], { timeoutMs: 120_000 }).catch(() => undefined);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 300_000);

const context = (project = 'catalog', hash = '0badbadbadbadbad'): ExecutorContext =>
  ({
    root: ws,
    cwd: ws,
    isVerbose: false,
    projectName: project,
    targetName: 'image',
    projectsConfigurations: { version: 2, projects: { [project]: { root: `apps/${project}` } } },
    nxJsonConfiguration: {},
    projectGraph: { nodes: {}, dependencies: {} },
    taskGraph: {
      roots: [],
      dependencies: {},
      continuousDependencies: {},
      tasks: {
        [`${project}:image`]: {
          id: `${project}:image`,
          target: { project, target: 'image' },
          overrides: {},
          outputs: [],
          hash,
          parallelism: true,
          continuous: false,
        },
      },
    },
  }) as unknown as ExecutorContext;

interface DirectRun {
  success: boolean;
  errors: string;
  logs: string[];
  /** Everything the engine printed, captured WITHOUT redaction: a secret here was printed by the engine. */
  engineOutput: string;
  record?: ImageRecord;
}

/** The executor in-process (hostDeps with the engine output captured), for cases Nx options cannot express. */
async function runDirect(
  engine: EngineName,
  options: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  hash?: string,
): Promise<DirectRun> {
  const errors: string[] = [];
  const logs: string[] = [];
  let engineOutput = '';
  const deps: ImageExecutorDeps = {
    ...hostDeps,
    env: { ...engineEnv(engine), ...env },
    run: (command, _secrets, cwd) =>
      runProcess(command.program, command.args, {
        cwd,
        env: { ...engineEnv(engine), ...env, ...command.env },
        timeoutMs: 900_000,
        onOutput: (chunk) => (engineOutput += chunk),
      }),
    log: (m) => logs.push(m),
    error: (m) => errors.push(m),
  };
  const saved = { ...process.env };
  // The engine probes read the process environment (DOCKER_HOST, DOCKER_CONFIG, PATH), as the CLI does.
  Object.assign(process.env, engine === 'docker' ? { ...dockerEnv, BUILDX_BUILDER: 'default' } : {}, env);
  try {
    const result = await runImageExecutor(
      { engine, registry: registryAddr, owner: engine, network: 'host', ...options },
      context(options['project'] as string | undefined, hash),
      deps,
    );
    if (result.record) for (const tag of result.record.tags) builtRefs.push(`${result.record.image}:${tag}`);
    return { success: result.success, errors: errors.join('\n'), logs, engineOutput, record: result.record };
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

/** A small image on the same base: a secret mounted as a file, its digest (never its value) kept. */
const SECRET_DOCKERFILE = `ARG NODE_IMAGE
FROM \${NODE_IMAGE}
COPY dist/package.json /app/package.json
RUN --mount=type=secret,id=token,required=true ["node", "-e", "const fs=require('fs');const v=fs.readFileSync('/run/secrets/token','utf8');fs.writeFileSync('/app/token.sha256',require('crypto').createHash('sha256').update(v).digest('hex'))"]
`;

/** Each platform copies its own architecture's binary; its RUN executes it (under QEMU for arm64). */
const MULTIARCH_DOCKERFILE = `FROM scratch
ARG TARGETARCH
COPY bin/\${TARGETARCH}/ /
RUN ["/hello"]
`;

/** Writes "<GOARCH> <uname machine>" to /built-on: under QEMU user emulation the machine is aarch64. */
const HELLO_GO = `package main

import (
	"os"
	"runtime"
	"syscall"
)

func main() {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		os.Exit(2)
	}
	machine := []byte{}
	for _, c := range u.Machine {
		if c == 0 {
			break
		}
		machine = append(machine, byte(c))
	}
	if err := os.WriteFile("/built-on", []byte(runtime.GOARCH+" "+string(machine)+"\\n"), 0o644); err != nil {
		os.Exit(3)
	}
}
`;

describe.each(ENGINES_UNDER_TEST)('image executor on %s with a real registry', (engine) => {
  const repository = `${engine}/catalog`;
  let first: ImageRecord;
  let rebuilt: ImageRecord;

  it('builds catalog on the base image given as a build arg, pushes every tag, records the served digest', async () => {
    const run = await nxImage(engine, 'catalog');
    expect(run.output).not.toMatch(/image catalog: /); // no executor error
    expect(run.code).toBe(0);
    expect(run.output).toMatch(new RegExp(`(^|\\s)engine ${engine} \\(requested\\): `, 'm'));
    first = run.record as ImageRecord;
    expect(first).toMatchObject({
      project: 'catalog',
      image: `${registryAddr}/${repository}`,
      reused: false,
      engine,
      version: '0.0.1',
    });
    expect(first.revision).toBe(git('rev-parse', 'HEAD'));
    expect(first.contentTag).toMatch(/^h-[0-9a-z]{12}$/);
    // The branch tag names the branch the clone is on (main in CI; a work branch elsewhere).
    const branchTag = git('rev-parse', '--abbrev-ref', 'HEAD').replace(/[^A-Za-z0-9._-]/g, '-');
    expect(first.tags).toEqual([branchTag, 'latest', `sha-${first.revision.slice(0, 7)}`, first.contentTag]);
    expect(buildCommands(engine, run.output)).toHaveLength(1);
    expect(buildCommands(engine, run.output)[0]).toContain(`--build-arg NODE_IMAGE=${nodeImage[engine]}`);
    const served = await registry.headManifest(repository, first.contentTag);
    expect(served?.digest).toBe(first.digest);
    expect((await registry.listTags(repository)).sort()).toEqual([...first.tags].sort());
    for (const tag of first.tags) expect((await registry.headManifest(repository, tag))?.digest).toBe(first.digest);
    const labels = await registry.getLabels(repository, first.contentTag);
    expect(labels['org.opencontainers.image.revision']).toBe(first.revision);
    expect(labels['org.opencontainers.image.title']).toBe('catalog');
    expect(labels['org.opencontainers.image.version']).toBe('0.0.1');
    // Built FROM the base passed as NODE_IMAGE: its layers are the image's first layers, unchanged.
    const config = await configOf(registryAddr, repository, await manifestAt(registryAddr, repository, first.digest));
    expect(config.rootfs.diff_ids.slice(0, baseDiffIds.length)).toEqual(baseDiffIds);
    expect(config.rootfs.diff_ids.length).toBeGreaterThan(baseDiffIds.length);
  });

  it('runs as a non-root user on a read-only root filesystem and reports its version', async () => {
    const port = 3500 + Math.floor(Math.random() * 100);
    const name = `slipway-image-it-${engine}-${RUN_ID}`;
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
      await podman('rmi', '-f', `${first.image}@${first.digest}`);
    }
  });

  it('reuses the image when nothing changed: no build, new tags added in the registry', async () => {
    const sha = commitAll(`chore: empty commit, same content (${engine})`);
    const run = await nxImage(engine, 'catalog');
    expect(run.code).toBe(0);
    expect(buildCommands(engine, run.output)).toHaveLength(0);
    expect(run.record).toMatchObject({
      reused: true,
      contentTag: first.contentTag,
      digest: first.digest,
      revision: first.revision,
      engine,
    });
    expect(run.record?.tags).toContain(`sha-${sha.slice(0, 7)}`);
    expect((await registry.headManifest(repository, `sha-${sha.slice(0, 7)}`))?.digest).toBe(first.digest);
  });

  it('rebuilds when a lib catalog imports changes', async () => {
    appendFileSync(
      join(ws, 'libs/shared/contracts/src/index.ts'),
      `\nexport const imageIntegrationMarker${engine} = '${RUN_ID}';\n`,
    );
    commitAll(`feat(contracts): marker for the image integration test (${engine})`);
    const run = await nxImage(engine, 'catalog');
    expect(run.code).toBe(0);
    rebuilt = run.record as ImageRecord;
    expect(rebuilt.reused).toBe(false);
    expect(rebuilt.contentTag).not.toBe(first.contentTag);
    expect(rebuilt.digest).not.toBe(first.digest);
    expect(buildCommands(engine, run.output)).toHaveLength(1);
    expect((await registry.headManifest(repository, rebuilt.contentTag))?.digest).toBe(rebuilt.digest);
  });

  it('reuses catalog when only orders changed', async () => {
    appendFileSync(join(ws, 'apps/orders/src/main.ts'), `\n// image integration test: orders-only change ${RUN_ID}\n`);
    commitAll(`chore(orders): orders-only change (${engine})`);
    const run = await nxImage(engine, 'catalog');
    expect(run.code).toBe(0);
    expect(buildCommands(engine, run.output)).toHaveLength(0);
    expect(run.record).toMatchObject({ reused: true, contentTag: rebuilt.contentTag, digest: rebuilt.digest });
  });

  it('dry run prints the exact command and the same content tag, and builds nothing', async () => {
    const tagsBefore = await registry.listTags(repository);
    const run = await nxImage(engine, 'catalog', '--dry-run');
    expect(run.code).toBe(0);
    expect(run.output).toContain(`content tag ${rebuilt.contentTag}`);
    const expected: Record<EngineName, string> = {
      buildah: 'buildah --storage-driver vfs bud --isolation chroot ',
      podman: 'podman --storage-driver vfs --cgroup-manager=cgroupfs build --isolation chroot ',
      docker: 'docker buildx build ',
    };
    const line = run.output.split('\n').find((l) => l.includes(expected[engine]));
    expect(line).toContain(`--tag ${registryAddr}/${repository}:${rebuilt.contentTag}`);
    expect(buildCommands(engine, run.output)).toHaveLength(0);
    expect((await registry.listTags(repository)).sort()).toEqual(tagsBefore.sort());
  });

  it('secrets are files in the build, never on a command line, in the output or in a layer', async () => {
    const secret = `it-secret-${RUN_ID}-${'x'.repeat(12)}`;
    writeFileSync(join(ws, 'apps/catalog/Dockerfile.secret-it'), SECRET_DOCKERFILE);
    const run = await runDirect(
      engine,
      {
        dockerfile: '{projectRoot}/Dockerfile.secret-it',
        repository: `${engine}/secret-it`,
        secrets: [{ id: 'token', env: 'IT_BUILD_TOKEN' }],
      },
      { IT_BUILD_TOKEN: secret },
    );
    expect(run.errors).toBe('');
    expect(run.success).toBe(true);
    expect(run.logs.join('\n')).toMatch(/--secret id=token,src=\S+\/token/);
    for (const text of [run.logs.join('\n'), run.engineOutput, run.errors]) expect(text).not.toContain(secret);
    const record = run.record as ImageRecord;
    const tars = await layerTars(
      registryAddr,
      `${engine}/secret-it`,
      await manifestAt(registryAddr, `${engine}/secret-it`, record.digest),
    );
    const all = Buffer.concat(tars).toString('latin1');
    expect(all).toContain(createHash('sha256').update(secret).digest('hex'));
    expect(all).not.toContain(secret);
  });

  it('several platforms: one image index with both manifests (RUN steps emulated), recorded and pinned by the bump', async () => {
    const dir = join(ws, 'apps/catalog/multiarch-it');
    for (const arch of ['amd64', 'arm64']) mkdirSync(join(dir, 'bin', arch), { recursive: true });
    writeFileSync(join(dir, 'Dockerfile'), MULTIARCH_DOCKERFILE);
    writeFileSync(join(dir, 'hello.go'), HELLO_GO);
    for (const arch of ['amd64', 'arm64'])
      execFileSync('go', ['build', '-trimpath', '-o', join(dir, 'bin', arch, 'hello'), join(dir, 'hello.go')], {
        env: { ...process.env, GOOS: 'linux', GOARCH: arch, CGO_ENABLED: '0' },
      });
    const path = `${engine}/multiarch-it`;
    rmSync(join(ws, 'dist/images'), { recursive: true, force: true });
    const run = await runDirect(
      engine,
      {
        dockerfile: '{projectRoot}/multiarch-it/Dockerfile',
        context: '{projectRoot}/multiarch-it',
        repository: path,
        platforms: ['linux/amd64', 'linux/arm64'],
        provenance: engine === 'docker',
        buildArgsFromEnv: [],
      },
      remoteBuilder(engine),
    );
    expect(run.errors).toBe('');
    expect(run.success).toBe(true);
    const record = run.record as ImageRecord;
    const served = await registry.headManifest(path, record.contentTag);
    expect(served?.digest).toBe(record.digest);
    expect(served?.mediaType).toMatch(/image\.index\.v1\+json|manifest\.list\.v2\+json/);
    expect(record.platforms?.sort()).toEqual(['linux/amd64', 'linux/arm64']);
    const index = await manifestAt(registryAddr, path, record.digest);
    const images = (index.manifests ?? []).filter((m) => m.platform?.os === 'linux');
    const uname: Record<string, string> = { amd64: 'amd64 x86_64', arm64: 'arm64 aarch64' };
    for (const arch of ['amd64', 'arm64']) {
      const entry = images.find((m) => m.platform?.architecture === arch);
      expect(entry).toBeDefined();
      // The RUN step ran the image's own binary: on arm64 under QEMU, which reports an aarch64 machine.
      const tars = await layerTars(registryAddr, path, await manifestAt(registryAddr, path, entry?.digest as string));
      expect(Buffer.concat(tars).toString('latin1')).toContain(uname[arch]);
    }
    if (engine === 'docker') {
      // Provenance read back from the registry: one attestation manifest per platform image, whose
      // in-toto statement names that image's digest as its subject.
      expect(record.buildkitAttestations?.map((a) => a.subject).sort()).toEqual(images.map((m) => m.digest).sort());
      for (const attestation of record.buildkitAttestations ?? []) {
        expect(attestation.predicateTypes).toEqual([expect.stringMatching(/^https:\/\/slsa\.dev\/provenance\//)]);
        const manifest = await manifestAt(registryAddr, path, attestation.digest);
        const statement = JSON.parse(
          (await blob(registryAddr, path, manifest.layers?.[0]?.digest as string)).toString('utf8'),
        ) as { _type: string; subject: { digest: { sha256: string } }[]; predicateType: string };
        expect(statement._type).toMatch(/^https:\/\/in-toto\.io\/Statement\/v/);
        expect(statement.predicateType).toBe(attestation.predicateTypes[0]);
        expect(statement.subject.map((s) => `sha256:${s.digest.sha256}`)).toContain(attestation.subject);
      }
    }
    // The bump pins exactly the index digest the record names.
    const [change] = await changesFromImageRecords(join(ws, 'dist/images'), { projects: ['catalog'] });
    expect(change?.reference).toEqual({
      repository: `${registryAddr}/${path}`,
      tag: record.contentTag,
      digest: record.digest,
    });
  });

  describe('bad input and faults: clear message naming the engine, cause and fix; nothing pushed, no record', () => {
    let tagsBefore: string[];
    beforeEach(async () => {
      tagsBefore = (await registry.listTags(repository)).sort();
      rmSync(join(ws, 'dist/images'), { recursive: true, force: true });
    });
    afterEach(async () => {
      expect((await registry.listTags(repository)).sort()).toEqual(tagsBefore);
      expect(existsSync(join(ws, 'dist/images'))).toBe(false);
    });

    it('a registry that refuses the push', async () => {
      const readonly = await startRegistry(`readonly-${engine}`, true);
      writeFileSync(join(ws, 'apps/catalog/Dockerfile.secret-it'), SECRET_DOCKERFILE);
      const run = await runDirect(
        engine,
        {
          registry: readonly,
          dockerfile: '{projectRoot}/Dockerfile.secret-it',
          secrets: [{ id: 'token', file: 'apps/catalog/package.json' }],
        },
        {},
        'refusedrefused01',
      );
      expect(run.success).toBe(false);
      expect(run.errors).toMatch(
        new RegExp(
          `${engine} (build|push) failed with exit code \\d+: the registry ${readonly.replace(/\./g, '\\.')} refused the push from ${engine} .*Fix: push to a registry that accepts writes`,
        ),
      );
      expect(
        await new HttpRegistryClient({ registry: readonly, insecure: true }).listTags(`${engine}/catalog`),
      ).toEqual([]);
    });

    it('registry unreachable (through nx: non-zero exit)', async () => {
      const closed = await freePort();
      const run = await runProcess(
        'npx',
        [
          'nx',
          'run',
          'catalog:image',
          `--engine=${engine}`,
          `--registry=127.0.0.1:${closed}`,
          '--skip-sync',
          '--output-style=stream',
        ],
        {
          cwd: ws,
          env: { ...engineEnv(engine), NX_DAEMON: 'false', NX_TUI: 'false' },
          timeoutMs: 300_000,
        },
      );
      expect(run.code).not.toBe(0);
      expect(`${run.stdout}${run.stderr}`).toMatch(
        new RegExp(`Registry 127\\.0\\.0\\.1:${closed} is unreachable \\(ECONNREFUSED\\).*local-prereqs\\.sh`),
      );
      expect(buildCommands(engine, run.stdout)).toHaveLength(0);
    });

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
      const result = await runDirect(engine, options);
      expect(result.success).toBe(false);
      expect(result.errors).toMatch(message);
    });

    if (engine === 'docker') {
      it('dockerd not running', async () => {
        const result = await runDirect('docker', {}, { DOCKER_HOST: `unix://${join(tmp, 'no-dockerd.sock')}` });
        expect(result.success).toBe(false);
        expect(result.errors).toMatch(
          /Engine "docker" is not usable: no docker daemon answers at unix:\/\/\S+no-dockerd\.sock \(.*\)\. Fix: start one with eval "\$\(bash tools\/scripts\/docker\.sh start\)"/,
        );
      });

      it('buildx missing', async () => {
        const emptyConfig = join(tmp, 'docker-config-without-buildx');
        mkdirSync(emptyConfig, { recursive: true });
        const result = await runDirect('docker', {}, { DOCKER_CONFIG: emptyConfig });
        expect(result.success).toBe(false);
        expect(result.errors).toMatch(
          /Engine "docker" is not usable: the buildx plugin is missing \("docker buildx version": .*\)\. Fix: eval "\$\(bash tools\/scripts\/docker\.sh start\)" installs a pinned buildx/,
        );
      });

      it('a platform the builder cannot emulate', async () => {
        const inspect = await runProcess('docker', ['buildx', 'inspect'], { env: { ...process.env, ...dockerEnv } });
        const unsupported = ['linux/riscv64', 'linux/s390x', 'linux/ppc64le', 'linux/mips64le'].find(
          (platform) => !inspect.stdout.includes(platform),
        );
        expect(unsupported).toBeDefined();
        const result = await runDirect('docker', { platforms: ['linux/amd64', unsupported] }, remoteBuilder('docker'));
        expect(result.success).toBe(false);
        expect(result.errors).toMatch(
          new RegExp(
            `Engine "docker": buildx builder "slipway" cannot build ${(unsupported as string).replace('/', '\\/')} \\(it builds linux\\/amd64.*\\)\\. Fix: register QEMU user emulation`,
          ),
        );
      });
    }

    it('no engine installed', async () => {
      const bin = join(tmp, 'bin-without-engines');
      mkdirSync(bin, { recursive: true });
      const result = await runDirect(engine, { engine: 'auto' }, { PATH: bin }); // the probes spawn engines through PATH
      expect(result.success).toBe(false);
      expect(result.errors).toMatch(
        /No container engine found: docker is not usable \(the docker CLI is not installed.*Install one/,
      );
    });

    it('missing build output', async () => {
      rmSync(join(ws, 'apps/catalog/dist'), { recursive: true, force: true });
      const result = await runDirect(engine, {});
      expect(result.success).toBe(false);
      expect(result.errors).toMatch(
        /Build output missing in apps\/catalog: dist\/package\.json, dist\/package-lock\.json, dist\/\.npm-offline.*nx run catalog:image/,
      );
    });
  });
});
