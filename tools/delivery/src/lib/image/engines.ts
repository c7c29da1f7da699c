import { canRun, runProcess } from '../shared/process';
import { DIGEST_PATTERN } from './reference';

export type EngineName = 'docker' | 'podman' | 'buildah';
export const ENGINE_NAMES: readonly EngineName[] = ['docker', 'podman', 'buildah'];

/** Everything an engine needs to build (and push) one image. */
export interface BuildSpec {
  contextDir: string;
  dockerfile: string;
  target?: string;
  /** Full references `registry/path:tag`; the first one is the content tag. */
  refs: string[];
  labels: Record<string, string>;
  buildArgs: Record<string, string>;
  /** Secrets as files only: env secrets are written to 0600 temp files so no value is ever on a command line. */
  secrets: { id: string; file: string }[];
  platforms: string[];
  /** --network of RUN steps (e.g. host); undefined: the engine's default. */
  network?: string;
  push: boolean;
  load: boolean;
  cacheFrom: string[];
  cacheTo: string[];
  sbom: boolean;
  provenance: boolean;
  /** Plain-http registry: podman/buildah need --tls-verify=false. */
  insecureRegistry: boolean;
  /** Registry credentials file (containers-auth.json format) for podman/buildah pushes. */
  authFile?: string;
  /** Directory for docker's config.json holding the registry credentials. */
  dockerConfigDir?: string;
  /** Where the push writes the pushed manifest digest (docker: buildx metadata JSON). */
  digestFile: string;
  storageDriver?: string;
}

export interface EngineCommand {
  program: string;
  args: string[];
  env?: Record<string, string>;
  /** What the step does, for logs and dry-run output. */
  purpose: 'build' | 'push';
}

export interface ImageEngine {
  name: EngineName;
  supportsSbom: boolean;
  supportsProvenance: boolean;
  plan(spec: BuildSpec): EngineCommand[];
  /** Read the pushed digest from the file written by the push step. */
  readDigest(fileContent: string): string | undefined;
}

function commonBuildArgs(spec: BuildSpec): string[] {
  const args = ['--file', spec.dockerfile];
  if (spec.target) args.push('--target', spec.target);
  for (const [key, value] of Object.entries(spec.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  for (const [key, value] of Object.entries(spec.labels)) args.push('--label', `${key}=${value}`);
  for (const secret of spec.secrets) args.push('--secret', `id=${secret.id},src=${secret.file}`);
  if (spec.network) args.push('--network', spec.network);
  return args;
}

const docker: ImageEngine = {
  name: 'docker',
  supportsSbom: true,
  supportsProvenance: true,
  plan(spec) {
    const args = ['buildx', 'build', ...commonBuildArgs(spec)];
    if (spec.platforms.length > 0) args.push('--platform', spec.platforms.join(','));
    for (const ref of spec.refs) args.push('--tag', ref);
    for (const from of spec.cacheFrom) args.push('--cache-from', from);
    for (const to of spec.cacheTo) args.push('--cache-to', to);
    if (spec.sbom) args.push('--sbom=true');
    // buildx adds provenance by default; say what the user asked for either way.
    args.push(`--provenance=${spec.provenance ? 'true' : 'false'}`);
    if (spec.push) args.push('--push', '--metadata-file', spec.digestFile);
    if (spec.load) args.push('--load');
    args.push(spec.contextDir);
    return [
      {
        program: 'docker',
        args,
        purpose: 'build',
        env: spec.dockerConfigDir ? { DOCKER_CONFIG: spec.dockerConfigDir } : undefined,
      },
    ];
  },
  readDigest(content) {
    try {
      return (JSON.parse(content) as Record<string, string>)['containerimage.digest'];
    } catch {
      return undefined;
    }
  },
};

/** podman and buildah share the buildah build engine and most flags. */
function containersEngine(name: 'podman' | 'buildah'): ImageEngine {
  const globalArgs = (spec: BuildSpec): string[] => {
    const args = spec.storageDriver ? ['--storage-driver', spec.storageDriver] : [];
    // The machines here need cgroupfs: systemd is not the cgroup manager in these containers.
    if (name === 'podman') args.push('--cgroup-manager=cgroupfs');
    return args;
  };
  return {
    name,
    supportsSbom: false,
    supportsProvenance: false,
    plan(spec) {
      const multiPlatform = spec.platforms.length > 1;
      const localName = spec.refs[0] as string;
      // Per-instruction layers only when a build cache is asked for: with the vfs driver every layer commit
      // copies the whole root filesystem (measured here: 2m12s with --layers, 12s without). Without it the
      // runtime stage's instructions become one application layer on top of the base.
      const layered = spec.cacheFrom.length > 0 || spec.cacheTo.length > 0;
      const build = [
        ...globalArgs(spec),
        name === 'podman' ? 'build' : 'bud',
        '--isolation',
        'chroot',
        `--layers=${layered}`,
        ...commonBuildArgs(spec),
      ];
      if (spec.platforms.length > 0) build.push('--platform', spec.platforms.join(','));
      if (multiPlatform) build.push('--manifest', localName);
      else for (const ref of spec.refs) build.push('--tag', ref);
      for (const from of spec.cacheFrom) build.push('--cache-from', from);
      for (const to of spec.cacheTo) build.push('--cache-to', to);
      build.push(spec.contextDir);
      const commands: EngineCommand[] = [{ program: name, args: build, purpose: 'build' }];
      if (!spec.push) return commands;
      const pushFlags = [
        ...(spec.insecureRegistry ? ['--tls-verify=false'] : []),
        ...(spec.authFile ? ['--authfile', spec.authFile] : []),
      ];
      // Each tag is pushed by the engine; blobs already in the registry are skipped, so later tags are cheap.
      spec.refs.forEach((ref, index) => {
        const digestArgs = index === 0 ? ['--digestfile', spec.digestFile] : [];
        const args = multiPlatform
          ? [
              ...globalArgs(spec),
              'manifest',
              'push',
              '--all',
              ...pushFlags,
              ...digestArgs,
              localName,
              `docker://${ref}`,
            ]
          : [...globalArgs(spec), 'push', ...pushFlags, ...digestArgs, ref, `docker://${ref}`];
        commands.push({ program: name, args, purpose: 'push' });
      });
      return commands;
    },
    readDigest(content) {
      const digest = content.trim();
      return DIGEST_PATTERN.test(digest) ? digest : undefined;
    },
  };
}

export const ENGINES: Record<EngineName, ImageEngine> = {
  docker,
  podman: containersEngine('podman'),
  buildah: containersEngine('buildah'),
};

/** What the docker path needs, each part probed on its own so errors can name the missing one. */
export interface DockerStatus {
  /** `docker --version` runs. */
  cli: boolean;
  /** `docker buildx version` runs: the version line, or the reason it does not. */
  buildx: { ok: boolean; detail: string };
  /** `docker info` reaches a daemon: its version, or the CLI's first error line. */
  daemon: { ok: boolean; detail: string };
  /** Where the CLI looks for the daemon (DOCKER_HOST or the default socket). */
  host: string;
}

/** Probes whether an engine can build here; swapped out in unit tests. */
export interface EngineProbe {
  docker(): Promise<DockerStatus>;
  installed(name: EngineName): Promise<boolean>;
  /** Platforms the current buildx builder can build (`docker buildx inspect`), with the builder's name. */
  dockerPlatforms(): Promise<{ builder: string; platforms: string[] }>;
}

const firstLine = (text: string): string =>
  text
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.length > 0) ?? '';

async function probeRun(program: string, args: string[]): Promise<{ ok: boolean; detail: string }> {
  try {
    const result = await runProcess(program, args, { timeoutMs: 15_000 });
    const detail = firstLine(result.code === 0 ? result.stdout : `${result.stderr}\n${result.stdout}`);
    return { ok: result.code === 0 && result.stdout.trim().length > 0, detail };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

export const hostEngineProbe: EngineProbe = {
  async docker() {
    const host = process.env['DOCKER_HOST'] || 'unix:///var/run/docker.sock';
    if (!(await canRun('docker', ['--version'])))
      return {
        cli: false,
        host,
        buildx: { ok: false, detail: 'no docker CLI' },
        daemon: { ok: false, detail: 'no docker CLI' },
      };
    // The docker CLI may be installed without a daemon or without buildx: ask each one itself.
    const [buildx, daemon] = await Promise.all([
      probeRun('docker', ['buildx', 'version']),
      probeRun('docker', ['info', '--format', '{{.ServerVersion}}']),
    ]);
    return { cli: true, host, buildx, daemon };
  },
  installed(name) {
    return canRun(name, ['--version']);
  },
  async dockerPlatforms() {
    const result = await runProcess('docker', ['buildx', 'inspect'], { timeoutMs: 30_000 });
    return parseBuildxInspect(result.stdout);
  },
};

/** Builder name and platforms from `docker buildx inspect` output (platforms of every node). */
export function parseBuildxInspect(output: string): { builder: string; platforms: string[] } {
  const builder = /^Name:\s*(\S+)/m.exec(output)?.[1] ?? 'unknown';
  const platforms = [...output.matchAll(/^Platforms:\s*(.*)$/gm)].flatMap((m) =>
    (m[1] as string)
      .split(',')
      .map((p) => p.replace(/\*$/, '').trim())
      .filter(Boolean),
  );
  return { builder, platforms: [...new Set(platforms)] };
}

export class EngineError extends Error {}

const DOCKER_START = 'eval "$(bash tools/scripts/docker.sh start)"';

/** Why docker cannot be used, with the fix; undefined when it can. */
function dockerUnusable(status: DockerStatus): string | undefined {
  if (!status.cli)
    return (
      'the docker CLI is not installed. Fix: bash tools/scripts/setup.sh (installs docker.io), then ' + DOCKER_START
    );
  if (!status.daemon.ok)
    return `no docker daemon answers at ${status.host} (${status.daemon.detail || 'docker info failed'}). Fix: start one with ${DOCKER_START} (a private dockerd, buildx and BuildKit under .local/docker)`;
  if (!status.buildx.ok)
    return `the buildx plugin is missing ("docker buildx version": ${status.buildx.detail || 'failed'}). Fix: ${DOCKER_START} installs a pinned buildx as a CLI plugin in .local/docker/config (GitHub runners: docker/setup-buildx-action)`;
  return undefined;
}

/** Same OS and architecture (a listed variant such as linux/arm64/v8 covers linux/arm64, and back). */
function platformCovered(requested: string, supported: readonly string[]): boolean {
  const [os, arch, variant] = requested.split('/');
  return supported.some((candidate) => {
    const [cos, carch, cvariant] = candidate.split('/');
    return cos === os && carch === arch && (!variant || !cvariant || cvariant === variant);
  });
}

export interface EngineChoice {
  engine: ImageEngine;
  /** One line: which engine and why, printed first by the executor. */
  reason: string;
}

/**
 * `auto`: docker buildx when a daemon answers and buildx works, else podman, else buildah. Every refusal
 * names the engine, the cause and the fix. With platforms, docker's builder must list each of them.
 */
export async function chooseEngine(
  requested: string,
  probe: EngineProbe,
  platforms: readonly string[] = [],
): Promise<EngineChoice> {
  let choice: EngineChoice;
  if (requested === 'auto') {
    const docker = await probe.docker();
    const unusable = dockerUnusable(docker);
    if (!unusable) {
      choice = {
        engine: ENGINES.docker,
        reason: `engine docker (auto): a docker daemon (${docker.daemon.detail}) answers at ${docker.host} and buildx works (${docker.buildx.detail})`,
      };
    } else {
      const fallback = (await probe.installed('podman'))
        ? 'podman'
        : (await probe.installed('buildah'))
          ? 'buildah'
          : undefined;
      if (!fallback)
        throw new EngineError(
          `No container engine found: docker is not usable (${unusable}) and neither podman nor buildah is installed. Install one (e.g. apt-get install -y buildah podman) or start the docker daemon, or pass --engine=<docker|podman|buildah>.`,
        );
      choice = {
        engine: ENGINES[fallback],
        reason: `engine ${fallback} (auto): docker is not usable (${firstLine(unusable.split('. Fix:')[0] as string)})${fallback === 'buildah' ? ' and podman is not installed' : ''}; ${fallback} is installed`,
      };
    }
  } else if (!(ENGINE_NAMES as readonly string[]).includes(requested)) {
    throw new EngineError(
      `Unknown engine "${requested}": use auto, docker, podman or buildah (--engine=auto picks the first that works).`,
    );
  } else if (requested === 'docker') {
    const docker = await probe.docker();
    const unusable = dockerUnusable(docker);
    if (unusable)
      throw new EngineError(`Engine "docker" is not usable: ${unusable}; or pass --engine=podman / --engine=buildah.`);
    choice = {
      engine: ENGINES.docker,
      reason: `engine docker (requested): daemon ${docker.daemon.detail} at ${docker.host}, buildx ${docker.buildx.detail}`,
    };
  } else {
    const name = requested as EngineName;
    if (!(await probe.installed(name)))
      throw new EngineError(
        `Engine "${name}" is not installed (${name} --version failed). Install it (apt-get install -y ${name}) or pass --engine=auto.`,
      );
    choice = { engine: ENGINES[name], reason: `engine ${name} (requested): ${name} is installed` };
  }
  if (choice.engine.name === 'docker' && platforms.length > 0) {
    const { builder, platforms: supported } = await probe.dockerPlatforms();
    const missing = platforms.filter((platform) => !platformCovered(platform, supported));
    if (missing.length > 0)
      throw new EngineError(
        `Engine "docker": buildx builder "${builder}" cannot build ${missing.join(', ')} (it builds ${supported.join(', ') || 'no platform it reports'}). Fix: register QEMU user emulation (apt-get install -y qemu-user-static binfmt-support; ${DOCKER_START} registers it for its BuildKit builder), use a builder that lists the platform (BUILDX_BUILDER=slipway, the builder docker.sh creates; the "docker" driver of Engine 20.10 builds one platform), or drop it from --platforms.`,
      );
  }
  return choice;
}

/** Quote an argument for display so the printed command can be pasted into a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatCommand(command: EngineCommand): string {
  const env = Object.entries(command.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)} `)
    .join('');
  return `${env}${[command.program, ...command.args].map(shellQuote).join(' ')}`;
}
