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

/** Probes whether an engine can build here; swapped out in unit tests. */
export interface EngineProbe {
  dockerDaemonAnswers(): Promise<boolean>;
  installed(name: EngineName): Promise<boolean>;
}

export const hostEngineProbe: EngineProbe = {
  async dockerDaemonAnswers() {
    // The docker CLI may be installed without a daemon (as on these machines): ask the daemon itself.
    if (!(await canRun('docker', ['buildx', 'version']))) return false;
    try {
      const info = await runProcess('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
      return info.code === 0 && info.stdout.trim().length > 0;
    } catch {
      return false;
    }
  },
  installed(name) {
    return canRun(name, ['--version']);
  },
};

export class EngineError extends Error {}

/** `auto`: docker buildx when a daemon answers, else podman, else buildah. */
export async function resolveEngine(requested: string, probe: EngineProbe): Promise<ImageEngine> {
  if (requested === 'auto') {
    if (await probe.dockerDaemonAnswers()) return ENGINES.docker;
    for (const name of ['podman', 'buildah'] as const) if (await probe.installed(name)) return ENGINES[name];
    throw new EngineError(
      'No container engine found: no docker daemon answers and neither podman nor buildah is installed. Install one (e.g. apt-get install -y buildah podman) or start the docker daemon, or pass --engine=<docker|podman|buildah>.',
    );
  }
  if (!(ENGINE_NAMES as readonly string[]).includes(requested)) {
    throw new EngineError(
      `Unknown engine "${requested}": use auto, docker, podman or buildah (--engine=auto picks the first that works).`,
    );
  }
  const name = requested as EngineName;
  const ok = name === 'docker' ? await probe.dockerDaemonAnswers() : await probe.installed(name);
  if (!ok) {
    throw new EngineError(
      name === 'docker'
        ? 'Engine "docker" is not usable: the docker CLI with buildx must be installed and a docker daemon must answer. Start the daemon or pass --engine=podman / --engine=buildah.'
        : `Engine "${name}" is not installed (${name} --version failed). Install it (apt-get install -y ${name}) or pass --engine=auto.`,
    );
  }
  return ENGINES[name];
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
