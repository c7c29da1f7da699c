import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { kustomizeBuild, parseObjects } from '../manifests/kubernetes';
import { runProcess, type ProcessRunner, type RunResult } from '../shared/process';
import { containerHealth, diedExitCodes, mergeLogStreams, type ContainerInspect } from './podman-health';
import { LABEL_INSTANCE, LABEL_PROJECT, LABEL_SPEC, shapeForHost, type ProjectManifest } from './render';
import {
  ClusterError,
  type ApplyRequest,
  type ApplyResult,
  type ClusterAdapter,
  type WorkloadHealth,
  type WorkloadStatus,
  WORKLOAD_LOG_TAIL_LINES,
} from './types';

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

/** How often the adapter runs the health check of a container that is not healthy yet. */
const UNHEALTHY_CHECK_INTERVAL_MS = 3000;

/** podman 4.3 logs a systemd error per healthcheck on machines without systemd: noise, not failure. */
function withoutSystemdNoise(text: string): string {
  return text
    .split('\n')
    .filter((line) => !/unable to get systemd connection/.test(line))
    .join('\n')
    .trim();
}

/** The image of `images` podman could not pull because the registry does not have it, if that is what `output` says. */
export function missingImage(output: string, images: string[]): string | undefined {
  if (!/manifest unknown|not found|no such image|unable to copy from source|reading manifest/i.test(output))
    return undefined;
  return images.find((image) => output.includes(image) || output.includes(image.split('@')[1] ?? image)) ?? images[0];
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
        // conmon drops an `oom` marker file in its working directory on cgroup v1: keep it in ours.
        cwd: this.options.workDir,
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

  /** Why the last apply of a project failed before any container existed (an image that is not there). */
  private readonly applyFailures = new Map<string, string>();

  /** When each container's health check last ran (podman schedules them with systemd, absent here). */
  private readonly healthcheckRuns = new Map<string, number>();

  async health(_overlayDir: string | undefined, projects: string[]): Promise<WorkloadHealth[]> {
    const pods = await this.pods();
    return Promise.all(
      projects.map(async (project): Promise<WorkloadHealth> => {
        const pod = pods.find((p) => p.Labels?.[LABEL_PROJECT] === project);
        if (!pod)
          return {
            project,
            phase: 'failing',
            reason: this.applyFailures.get(project) ?? `no pod runs ${project} (instance ${this.options.instance})`,
          };
        const names = (pod.Containers ?? []).filter((c) => !/-infra$/.test(c.Names)).map((c) => c.Names);
        if (names.length === 0) {
          const failure = this.applyFailures.get(project);
          return failure
            ? { project, phase: 'failing', reason: failure }
            : { project, phase: 'starting', reason: 'no container yet' };
        }
        const containers = await this.inspect(names);
        // Its result is what the next question reads: one podman call less per question.
        await Promise.all(containers.map((container) => this.runDueHealthcheck(container)));
        const healths = await Promise.all(
          containers.map(async (container) => {
            const restarted = (container.RestartCount ?? 0) > 0;
            return {
              container,
              health: containerHealth(project, {
                container,
                exitCodes: restarted ? await this.exitCodes(container.Id) : [],
              }),
            };
          }),
        );
        const failing = healths.find((h) => h.health.phase === 'failing');
        if (failing) return { ...failing.health, logTail: await this.logTail(failing.container.Id) };
        return (
          (healths.find((h) => h.health.phase === 'starting') ?? healths[0])?.health ?? { project, phase: 'ready' }
        );
      }),
    );
  }

  private async inspect(names: string[]): Promise<ContainerInspect[]> {
    const result = await this.podman(['container', 'inspect', '--format', 'json', ...names], 60_000);
    if (result.code !== 0)
      throw new ClusterError(`podman container inspect failed: ${withoutSystemdNoise(result.stderr)}`);
    return JSON.parse(result.stdout) as ContainerInspect[];
  }

  /**
   * Runs a running container's health check when its interval has passed: without systemd podman
   * never runs them itself, and `podman ps` would say "(starting)" forever.
   */
  private async runDueHealthcheck(container: ContainerInspect): Promise<void> {
    const check = container.Config?.Healthcheck;
    if (!check?.Test?.length || check.Test[0] === 'NONE' || container.State.Status !== 'running') return;
    // Until it is healthy every few seconds (a release is waiting on it); then at its interval.
    const intervalMs =
      container.State.Health?.Status === 'healthy' ? (check.Interval ?? 30e9) / 1e6 : UNHEALTHY_CHECK_INTERVAL_MS;
    const last = this.healthcheckRuns.get(container.Id);
    const now = Date.now();
    if (last !== undefined && now - last < intervalMs) return;
    this.healthcheckRuns.set(container.Id, now);
    // Exit 1 means unhealthy: the state it records is what the following inspect reads.
    await this.podman(['healthcheck', 'run', container.Id], 60_000);
  }

  private async exitCodes(id: string): Promise<number[]> {
    const result = await this.podman(
      ['events', '--stream=false', '--filter', `container=${id}`, '--filter', 'event=died', '--format', 'json'],
      60_000,
    );
    return result.code === 0 ? diedExitCodes(result.stdout) : [];
  }

  private async logTail(id: string): Promise<string[]> {
    const result = await this.podman(['logs', '--timestamps', '--tail', String(WORKLOAD_LOG_TAIL_LINES), id], 60_000);
    if (result.code !== 0) return [`(podman logs failed: ${withoutSystemdNoise(result.stderr).split('\n')[0]})`];
    return mergeLogStreams(result.stdout, result.stderr, WORKLOAD_LOG_TAIL_LINES);
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
        const missing = missingImage(detail, manifest.images);
        if (missing) {
          const reason = `image ${missing} not found in the registry`;
          this.applyFailures.set(manifest.project, reason);
          throw new ClusterError(
            `${manifest.project}: ${reason} (podman kube play: ${detail.split('\n').slice(-1)[0]})`,
          );
        }
        throw new ClusterError(
          `podman kube play of ${manifest.project} failed (exit ${result.code}${result.timedOut ? ', timed out' : ''}):\n${detail}`,
        );
      }
      this.applyFailures.delete(manifest.project);
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
