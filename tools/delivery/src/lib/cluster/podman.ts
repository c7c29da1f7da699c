import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { kustomizeBuild, parseObjects } from '../manifests/kubernetes';
import { runProcess, type ProcessRunner, type RunResult } from '../shared/process';
import { LABEL_INSTANCE, LABEL_PROJECT, LABEL_SPEC, shapeForHost, type ProjectManifest } from './render';
import { ClusterError, type ApplyRequest, type ApplyResult, type ClusterAdapter, type WorkloadStatus } from './types';

/**
 * The local environment's cluster: `podman kube play --replace --network host` of each project's
 * rendered Deployment on this machine, images pulled from the (loopback, plain-http) registry.
 * The flags are what these machines need (../shared/notes/containers-here.md): vfs storage,
 * cgroupfs + runc, and a containers.conf without default ulimits.
 */
export interface PodmanClusterOptions {
  instance: string;
  ports: Record<string, number>;
  storageDriver: string;
  /** Registries spoken to over plain http (the local registry). */
  insecureRegistries: string[];
  /** Folder for containers.conf, registries.conf and the per-project manifests. */
  workDir: string;
  run?: ProcessRunner;
  render?: (overlayDir: string) => Promise<string>;
  /** Seconds podman waits for a container to stop before killing it. */
  stopTimeoutSeconds?: number;
}

interface PodInfo {
  Name: string;
  Status: string;
  Labels?: Record<string, string>;
  Containers?: { Names: string; Status: string }[];
}

/** podman 4.3 logs a systemd error per healthcheck on machines without systemd: noise, not failure. */
function withoutSystemdNoise(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/unable to get systemd connection/.test(line))
    .join('\n')
    .trim();
}

export class PodmanCluster implements ClusterAdapter {
  readonly name = 'podman';
  private readonly run: ProcessRunner;
  private readonly render: (overlayDir: string) => Promise<string>;

  constructor(private readonly options: PodmanClusterOptions) {
    this.run = options.run ?? runProcess;
    this.render = options.render ?? ((dir) => kustomizeBuild(dir, { run: this.run }));
  }

  private globalArgs(): string[] {
    return ['--storage-driver', this.options.storageDriver, '--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];
  }

  private async environment(): Promise<NodeJS.ProcessEnv> {
    await fs.mkdir(this.options.workDir, { recursive: true });
    const containersConf = path.join(this.options.workDir, 'containers.conf');
    const registriesConf = path.join(this.options.workDir, 'registries.conf');
    await fs.writeFile(
      containersConf,
      '# Written by the deploy executor: crun/runc fail on RLIMIT_NOFILE on these machines without it.\n[containers]\ndefault_ulimits = []\n',
    );
    await fs.writeFile(
      registriesConf,
      [
        '# Written by the deploy executor: the local registry speaks plain http.',
        'unqualified-search-registries = []',
        ...this.options.insecureRegistries.flatMap((r) => ['', '[[registry]]', `location = "${r}"`, 'insecure = true']),
        '',
      ].join('\n'),
    );
    return {
      ...process.env,
      CONTAINERS_CONF: containersConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
    };
  }

  private async podman(args: string[], timeoutMs = 300_000): Promise<RunResult> {
    try {
      return await this.run('podman', [...this.globalArgs(), ...args], {
        env: await this.environment(),
        timeoutMs,
      });
    } catch (error) {
      throw new ClusterError(
        `podman is not installed (${(error as Error).message}): apt-get install -y podman runc (see tools/scripts/setup.sh)`,
      );
    }
  }

  async manifests(overlayDir: string, projects?: string[]): Promise<ProjectManifest[]> {
    const objects = parseObjects(await this.render(overlayDir));
    return shapeForHost(objects, {
      instance: this.options.instance,
      ports: this.options.ports,
      projects,
    });
  }

  async pods(): Promise<PodInfo[]> {
    const result = await this.podman(
      ['pod', 'ps', '--filter', `label=${LABEL_INSTANCE}=${this.options.instance}`, '--format', 'json'],
      60_000,
    );
    if (result.code !== 0) throw new ClusterError(`podman pod ps failed: ${withoutSystemdNoise(result.stderr)}`);
    const text = result.stdout.trim();
    return text ? (JSON.parse(text) as PodInfo[]) : [];
  }

  private static isRunning(pod: PodInfo): boolean {
    const containers = (pod.Containers ?? []).filter((c) => !/-infra$/.test(c.Names));
    return pod.Status === 'Running' && containers.length > 0 && containers.every((c) => c.Status === 'running');
  }

  async drift(overlayDir: string | undefined, projects: string[]): Promise<string[]> {
    if (!overlayDir) return [];
    const [manifests, pods] = await Promise.all([this.manifests(overlayDir, projects), this.pods()]);
    return manifests
      .filter((m) => {
        const pod = pods.find((p) => p.Labels?.[LABEL_PROJECT] === m.project);
        return !pod || pod.Labels?.[LABEL_SPEC] !== m.specHash || !PodmanCluster.isRunning(pod);
      })
      .map((m) => m.project);
  }

  async status(overlayDir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    const manifests = overlayDir ? await this.manifests(overlayDir, projects) : [];
    const pods = await this.pods();
    return projects.map((project) => {
      const pod = pods.find((p) => p.Labels?.[LABEL_PROJECT] === project);
      const manifest = manifests.find((m) => m.project === project);
      if (!pod)
        return {
          project,
          state: 'missing',
          image: manifest?.images[0],
          current: false,
        };
      return {
        project,
        state: PodmanCluster.isRunning(pod) ? 'running' : pod.Status.toLowerCase(),
        image: manifest?.images[0],
        current: manifest ? pod.Labels?.[LABEL_SPEC] === manifest.specHash : undefined,
        detail: pod.Name,
      };
    });
  }

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    if (!request.overlayDir)
      throw new ClusterError('podman mode needs the overlay directory of the GitOps working copy');
    const manifests = await this.manifests(request.overlayDir, request.projects);
    const missing = request.projects.filter((p) => !manifests.some((m) => m.project === p));
    if (missing.length > 0) {
      throw new ClusterError(
        `the overlay ${request.overlayDir} renders no Deployment for ${missing.join(', ')}: add it to the overlay's resources`,
      );
    }
    const notes: string[] = [];
    const dir = path.join(this.options.workDir, 'manifests');
    await fs.mkdir(dir, { recursive: true });
    for (const manifest of manifests) {
      const file = path.join(dir, `${manifest.deployment}.yaml`);
      await fs.writeFile(file, manifest.yaml);
      request.log(`podman kube play --replace ${manifest.deployment} (${manifest.images.join(', ')})`);
      const result = await this.podman(['kube', 'play', '--replace', '--network', 'host', file], 600_000);
      if (result.code !== 0) {
        const detail = withoutSystemdNoise(`${result.stderr}\n${result.stdout}`).split('\n').slice(-12).join('\n');
        throw new ClusterError(
          `podman kube play of ${manifest.project} failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}):\n${detail}`,
        );
      }
      notes.push(`${manifest.project}: pod ${manifest.deployment}-pod-0 started (${manifest.images.join(', ')})`);
    }
    return { notes };
  }

  async down(projects: string[]): Promise<string[]> {
    const pods = (await this.pods()).filter((p) => projects.includes(p.Labels?.[LABEL_PROJECT] ?? ''));
    const removed: string[] = [];
    for (const pod of pods) {
      const result = await this.podman(
        ['pod', 'rm', '--force', '--time', String(this.options.stopTimeoutSeconds ?? 10), pod.Name],
        120_000,
      );
      if (result.code !== 0)
        throw new ClusterError(`podman pod rm ${pod.Name} failed: ${withoutSystemdNoise(result.stderr)}`);
      removed.push(pod.Name);
    }
    return removed;
  }
}
