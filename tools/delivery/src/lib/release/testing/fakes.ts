import { createHash } from 'node:crypto';
import type { ApplyBumpResult } from '../../gitops/apply-bump';
import type { ImageRecord } from '../../image/record';
import type { FileAtCommit } from '../../gitops/git';
import { holdFilePath, parseHoldFile, serializeHoldFile } from '../../gitops/holds';
import { formatImageReference } from '../../image/reference';
import { planImageTarget, readImageTarget } from '../../manifests/image-targets';
import type { ApplyRequest, ApplyResult, ClusterAdapter, WorkloadStatus } from '../../cluster/types';
import type { ExpectedVersion, Outcome } from '../../smoke/types';
import { resolveEnvironment, type EnvironmentConfig, type EnvironmentOptions } from '../environment';
import type { BumpRequest, GitOpsRepository } from '../gitops-repo';
import type { ReleaseRecord } from '../history';
import type { ReleaseLock } from '../lock';
import type { ReleaseDeps } from '../release';
import type { RegistryAccess } from '../registry-access';
import type { SmokeOutcome, SmokeStep } from '../smoke-step';

/**
 * In-memory stand-ins for the release's adapters, for unit tests of the orchestration. The overlay
 * edits use the real (pure) manifest editor, so references are written exactly as the bump would.
 */
export const digest = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;
export const ZERO = digest('0');

export function overlay(refs: Record<string, { tag: string; digest: string; repository?: string }>): string {
  return [
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'resources:',
    '  - ../../base',
    'images:',
    ...Object.entries(refs).flatMap(([p, r]) => [
      `  - name: slipway/${p}`,
      `    newName: ${r.repository ?? `127.0.0.1:5000/slipway/${p}`}`,
      `    newTag: ${r.tag}`,
      `    digest: ${r.digest}`,
    ]),
    '',
  ].join('\n');
}

export function imageRecord(project: string, tag: string, d: string, extra: Partial<ImageRecord> = {}): ImageRecord {
  return {
    project,
    image: `127.0.0.1:5000/slipway/${project}`,
    tags: ['main', tag],
    digest: d,
    contentTag: tag,
    revision: `rev-${tag}`,
    version: '1.0.0',
    builtAt: '2026-01-01T00:00:00.000Z',
    reused: false,
    engine: 'buildah',
    ...extra,
  };
}

export class MemoryRepository implements GitOpsRepository {
  readonly commits: { sha: string; message: string; files: string[] }[] = [];
  private snapshots = new Map<string, Map<string, string>>();

  constructor(readonly files: Map<string, string>) {
    this.snapshot('seed');
  }

  private snapshot(sha: string): void {
    this.snapshots.set(sha, new Map(this.files));
  }

  private commitFiles(message: string, changed: FileAtCommit[]): string {
    for (const f of changed) this.files.set(f.path, f.content);
    const sha = createHash('sha1').update(`${this.commits.length}:${message}`).digest('hex');
    this.commits.push({ sha, message, files: changed.map((f) => f.path) });
    this.snapshot(sha);
    return sha;
  }

  describe(): string {
    return 'memory';
  }
  async refresh(): Promise<void> {
    return undefined;
  }
  head(): string | undefined {
    return this.commits[this.commits.length - 1]?.sha ?? 'seed';
  }
  async read(file: string): Promise<string | undefined> {
    return this.files.get(file);
  }
  async readAt(commit: string, file: string): Promise<string | undefined> {
    return this.snapshots.get(commit)?.get(file);
  }
  checkout(): string {
    return '/memory';
  }

  async bump(request: BumpRequest): Promise<ApplyBumpResult> {
    const file = `${request.overlaysDir ?? 'deploy/k8s/overlays'}/${request.environment}/kustomization.yaml`;
    const target = { kind: 'kustomize' as const, file };
    const before = this.files.get(file) as string;
    const current = readImageTarget(target, before);
    const { plan } = planImageTarget(target, before, request.changes);
    const images = request.changes.map((c) => {
      const prev = current.find((e) => e.project === c.project);
      const previous = prev ? formatImageReference(prev.reference) : '';
      const next = formatImageReference(c.reference);
      return {
        project: c.project,
        previous,
        next,
        changed: previous !== next,
        locations: [],
      };
    });
    const changed = images.some((i) => i.changed);
    const writes: FileAtCommit[] = [];
    if (changed) writes.push({ path: file, content: plan.after });
    const holdsFile = holdFilePath(request.holdsDir ?? 'deploy/holds', request.environment);
    if (changed) {
      const holds = parseHoldFile(
        this.files.get(holdsFile) ?? `{"environment":"${request.environment}","holds":[]}`,
        holdsFile,
        request.environment,
      );
      const released = Array.isArray(request.releaseHolds) ? request.releaseHolds : [];
      const added = new Set((request.addHolds ?? []).map((h) => h.project));
      const kept = holds.holds.filter(
        (h) =>
          !added.has(h.project) &&
          !(released.includes(h.project) && images.find((i) => i.project === h.project)?.changed),
      );
      const next = [...kept, ...(request.addHolds ?? [])];
      if (JSON.stringify(next) !== JSON.stringify(holds.holds))
        writes.push({
          path: holdsFile,
          content: serializeHoldFile({ ...holds, holds: next }),
        });
    }
    const message = `${request.message?.prefix ?? 'chore(deploy)'}: ${request.environment} ${images
      .filter((i) => i.changed)
      .map((i) => i.project)
      .join(', ')}\n\n${request.message?.body ?? ''}`;
    const commit = changed ? this.commitFiles(message, writes) : undefined;
    return {
      environment: request.environment,
      changed,
      images,
      previous: Object.fromEntries(images.map((i) => [i.project, i.previous])),
      files: [],
      diff: '',
      releasedHolds: [],
      message: changed ? message : undefined,
      commit,
      pushed: changed,
      pushAttempts: changed ? 1 : 0,
      localUpdated: changed,
      notes: [],
    };
  }

  async commit(
    message: string,
    edit: (read: (file: string) => Promise<string | undefined>) => Promise<FileAtCommit[]>,
  ) {
    const files = await edit(async (f) => this.files.get(f));
    const sha = this.commitFiles(message, files);
    return {
      commit: sha,
      pushed: true,
      pushAttempts: 1,
      localUpdated: true,
      notes: [],
    };
  }

  lock(): ReleaseLock {
    throw new Error('MemoryRepository.lock is not used: tests pass a FakeLock');
  }
}

export class FakeLock implements ReleaseLock {
  acquired = 0;
  released = 0;
  constructor(private readonly error?: Error) {}
  async acquire(): Promise<void> {
    if (this.error) throw this.error;
    this.acquired++;
  }
  async release(): Promise<void> {
    this.released++;
  }
  describe(): string {
    return 'fake lock';
  }
}

/** A cluster that "runs" whatever the overlay pins at apply time: the smoke fake reads it. */
export class FakeCluster implements ClusterAdapter {
  readonly name = 'fake';
  readonly applied: string[][] = [];
  running: Record<string, string> = {};
  driftOf: string[] = [];
  failApply?: string;

  constructor(
    private readonly repo: MemoryRepository,
    private readonly overlayFile: string,
  ) {}

  async apply(request: ApplyRequest): Promise<ApplyResult> {
    if (this.failApply) throw new Error(this.failApply);
    this.applied.push([...request.projects]);
    const entries = readImageTarget(
      { kind: 'kustomize', file: this.overlayFile },
      this.repo.files.get(this.overlayFile) as string,
    );
    for (const p of request.projects) {
      const e = entries.find((x) => x.project === p);
      if (e) this.running[p] = formatImageReference(e.reference);
    }
    return { notes: [] };
  }
  async drift(): Promise<string[]> {
    return this.driftOf;
  }
  async status(_dir: string | undefined, projects: string[]): Promise<WorkloadStatus[]> {
    return projects.map((project) => ({
      project,
      state: this.running[project] ? 'running' : 'missing',
      image: this.running[project],
    }));
  }
}

/** Smoke that fails for references listed in `broken`. */
export class FakeSmoke implements SmokeStep {
  readonly runs: {
    project: string;
    expect: ExpectedVersion | null;
    ref: string;
  }[] = [];
  broken = new Set<string>();
  preflightError?: Error;

  constructor(private readonly cluster: FakeCluster) {}

  preflight(): void {
    if (this.preflightError) throw this.preflightError;
  }
  async run(project: string, expect: ExpectedVersion | null): Promise<SmokeOutcome> {
    const ref = this.cluster.running[project] ?? '';
    this.runs.push({ project, expect, ref });
    const outcome: Outcome = this.broken.has(ref) ? 'fail' : 'pass';
    return {
      project,
      outcome,
      summary: outcome === 'pass' ? 'all checks passed' : `readiness: still 503 for ${ref}`,
      baseUrl: `http://127.0.0.1/${project}`,
      reportFile: `/dev/null`,
    };
  }
}

export class FakeRegistry implements RegistryAccess {
  missing = new Set<string>();
  async exists(ref: string): Promise<boolean> {
    return !this.missing.has(ref);
  }
  async expectation(ref: string): Promise<ExpectedVersion | null> {
    return {
      version: '1.0.0',
      revision: `labels-of-${/:(h-[0-9a-f]+)@/.exec(ref)?.[1] ?? ref}`,
    };
  }
}

export interface Harness {
  deps: ReleaseDeps;
  repo: MemoryRepository;
  cluster: FakeCluster;
  smoke: FakeSmoke;
  registry: FakeRegistry;
  lock: FakeLock;
  notified: ReleaseRecord[][];
  logs: string[];
  images: { next: ImageRecord[] };
  config: EnvironmentConfig;
}

export function harness(opts: {
  files: Record<string, string>;
  options?: EnvironmentOptions;
  lockError?: Error;
  projects?: string[];
}): Harness {
  const repo = new MemoryRepository(new Map(Object.entries(opts.files)));
  const config = resolveEnvironment(
    { environment: 'staging', mode: 'gitops', ...(opts.options ?? {}) },
    {
      workspaceRoot: '/work',
      deployableProjects: opts.projects ?? ['catalog', 'orders'],
      env: {},
    },
  );
  const cluster = new FakeCluster(repo, `${config.overlaysDir}/${config.environment}/kustomization.yaml`);
  const smoke = new FakeSmoke(cluster);
  const registry = new FakeRegistry();
  const lock = new FakeLock(opts.lockError);
  const notified: ReleaseRecord[][] = [];
  const logs: string[] = [];
  const images = { next: [] as ImageRecord[] };
  let tick = Date.parse('2026-01-01T12:00:00.000Z');
  const deps: ReleaseDeps = {
    config,
    repo,
    cluster,
    prepare: async () => undefined,
    images: async () => images.next,
    smoke,
    registry,
    lock,
    notify: async (records) => {
      notified.push(records);
    },
    urls: {},
    log: (line) => logs.push(line),
    now: () => new Date((tick += 1000)),
    monotonic: () => tick,
    actor: 'tester',
    trigger: 'nx run deploy:staging',
    sourceRevision: 'a'.repeat(40),
  };
  return {
    deps,
    repo,
    cluster,
    smoke,
    registry,
    lock,
    notified,
    logs,
    images,
    config,
  };
}
