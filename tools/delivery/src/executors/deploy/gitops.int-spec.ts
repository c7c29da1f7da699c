import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ImageRecord } from '../../lib/image/record';
import { parseHoldFile } from '../../lib/gitops/holds';
import { createGitOpsFixture, digestOf, git, type GitOpsFixture } from '../../lib/gitops/testing/fixtures';
import { parseBumpMessage } from '../../lib/gitops/trailers';
import { readImageTarget } from '../../lib/manifests/image-targets';
import type { ApplyRequest, ClusterAdapter } from '../../lib/cluster/types';
import { resolveEnvironment } from '../../lib/release/environment';
import { WorkingCopyRepository } from '../../lib/release/gitops-repo';
import { parseHistory } from '../../lib/release/history';
import { GitRefReleaseLock, newHolder } from '../../lib/release/lock';
import { runRelease, runRollback, type ReleaseDeps } from '../../lib/release/release';
import type { RegistryAccess } from '../../lib/release/registry-access';
import { createSmokeStep } from '../../lib/release/smoke-step';
import { startServer, type TestServer } from '../../lib/smoke/testing/servers';

/**
 * The gitops mode against a real bare remote: real git (bump, revert, records, lock ref), the real
 * smoke library against a real HTTP service. Argo CD is played by `ArgoLikeCluster`: on apply it
 * reads the overlay at the pushed commit from the remote and makes the service run that image
 * (version, revision, ready or not), as a synced Deployment would.
 */
const OVERLAY = 'deploy/k8s/overlays/staging/kustomization.yaml';
const HOLDS = 'deploy/holds/staging.json';
const HISTORY = 'deploy/history/staging.jsonl';
const IMAGE = '127.0.0.1:5000/slipway/catalog';

interface Build {
  tag: string;
  digest: string;
  version: string;
  revision: string;
  ready: boolean;
}

const builds: Record<string, Build> = {
  v1: {
    tag: 'h-111111111111',
    digest: digestOf('1'),
    version: '1.0.0',
    revision: '1'.repeat(40),
    ready: true,
  },
  v2: {
    tag: 'h-222222222222',
    digest: digestOf('2'),
    version: '1.1.0',
    revision: '2'.repeat(40),
    ready: true,
  },
  broken: {
    tag: 'h-333333333333',
    digest: digestOf('3'),
    version: '1.2.0',
    revision: '3'.repeat(40),
    ready: false,
  },
};
const refOf = (b: Build) => `${IMAGE}:${b.tag}@${b.digest}`;
const byDigest = (digest: string) => Object.values(builds).find((b) => b.digest === digest);
const recordOf = (b: Build): ImageRecord => ({
  project: 'catalog',
  image: IMAGE,
  tags: ['main', b.tag],
  digest: b.digest,
  contentTag: b.tag,
  revision: b.revision,
  version: b.version,
  builtAt: '2026-01-01T00:00:00Z',
  reused: false,
  engine: 'buildah',
});

class ArgoLikeCluster implements ClusterAdapter {
  readonly name = 'argo-like';
  running: Build | undefined;
  constructor(private readonly bare: string) {}
  async apply(request: ApplyRequest) {
    const text = await git(this.bare, ['show', `${request.commit}:${OVERLAY}`]);
    const entry = readImageTarget({ kind: 'kustomize', file: OVERLAY }, `${text}\n`).find(
      (e) => e.project === 'catalog',
    );
    this.running = entry?.reference.digest ? byDigest(entry.reference.digest) : undefined;
    return { notes: [`synced ${request.commit?.slice(0, 12)}`] };
  }
  async drift() {
    return [];
  }
  async status() {
    return [];
  }
}

const smokeJson = {
  readiness: {
    path: '/health/readiness',
    timeoutMs: 1500,
    initialDelayMs: 50,
    maxDelayMs: 200,
  },
  versionGate: {
    path: '/health',
    fields: { version: '$.version', revision: '$.revision' },
    timeoutMs: 1500,
    initialDelayMs: 50,
    maxDelayMs: 200,
  },
  checks: [
    {
      name: 'health ok',
      path: '/health',
      assertions: [{ path: '$.status', equals: 'ok' }],
    },
  ],
  environments: { staging: { baseUrl: 'http://127.0.0.1:9' } },
};

describe('deploy in gitops mode against a bare remote', () => {
  let fx: GitOpsFixture;
  let work: string;
  let server: TestServer;
  let cluster: ArgoLikeCluster;
  const logs: string[] = [];

  beforeAll(async () => {
    fx = await createGitOpsFixture({
      services: ['catalog'],
      environments: ['staging'],
    });
    work = await fx.clone('work');
    await fs.mkdir(path.join(work, 'apps/catalog'), { recursive: true });
    await fs.writeFile(path.join(work, 'apps/catalog/smoke.json'), JSON.stringify(smokeJson));
    cluster = new ArgoLikeCluster(fx.bare);
    server = await startServer((req, res) => {
      const b = cluster.running;
      res.setHeader('content-type', 'application/json');
      if (!b) {
        res.statusCode = 503;
        res.end('{}');
        return;
      }
      if (req.url === '/health/readiness') {
        res.statusCode = b.ready ? 200 : 503;
        res.end(JSON.stringify({ status: b.ready ? 'ready' : 'not-ready' }));
        return;
      }
      res.end(
        JSON.stringify({
          service: 'catalog',
          version: b.version,
          revision: b.revision,
          status: 'ok',
        }),
      );
    });
  });
  afterAll(async () => {
    await server.close();
    await fx.cleanup();
  });

  function deps(next: Build, opts: { beforeImages?: () => Promise<void>; lockWaitSeconds?: number } = {}): ReleaseDeps {
    const config = resolveEnvironment(
      {
        environment: 'staging',
        mode: 'gitops',
        lockWaitSeconds: opts.lockWaitSeconds ?? 0,
      },
      { workspaceRoot: work, deployableProjects: ['catalog'], env: {} },
    );
    const repo = new WorkingCopyRepository(work, { remote: 'origin', maxAttempts: 4, retryBaseMs: 10 }, 'ref', (l) =>
      logs.push(l),
    );
    const registry: RegistryAccess = {
      exists: async (ref) => !!byDigest(ref.split('@')[1] ?? ''),
      expectation: async (ref) => {
        const b = byDigest(ref.split('@')[1] ?? '');
        return b ? { version: b.version, revision: b.revision } : null;
      },
    };
    return {
      config,
      repo,
      cluster,
      prepare: () => repo.refresh(),
      images: async () => {
        await opts.beforeImages?.();
        return [recordOf(next)];
      },
      smoke: createSmokeStep({
        workspaceRoot: work,
        environment: 'staging',
        projectRoots: { catalog: 'apps/catalog' },
        settings: { k6: false, playwright: false },
        baseUrls: { catalog: server.url },
        log: (l) => logs.push(l),
        env: {},
      }),
      registry,
      lock: repo.lock(newHolder('staging', 'tester', 'nx run deploy:staging', new Date()), {
        waitMs: config.lockWaitSeconds * 1000,
        staleMs: 3_600_000,
        ref: config.lockRef,
        stateDir: path.join(work, '.local'),
        log: (l) => logs.push(l),
      }),
      notify: async () => undefined,
      urls: {},
      log: (l) => logs.push(l),
      now: () => new Date(),
      actor: 'tester',
      trigger: 'nx run deploy:staging',
    };
  }

  async function remoteLog(): Promise<{ sha: string; subject: string; body: string; files: string[] }[]> {
    // Each commit starts with \x1e; its changed files follow the last \x1f.
    const out = await git(fx.bare, ['log', '--format=%x1e%H%x1f%s%x1f%b%x1f', '--name-only', 'main']);
    return out
      .split('\x1e')
      .filter((chunk) => chunk.trim())
      .map((chunk) => {
        const [sha, subject, body, files] = chunk.split('\x1f') as [string, string, string, string];
        return {
          sha,
          subject,
          body: body.trim(),
          files: files
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean),
        };
      });
  }

  async function remoteFile(file: string): Promise<string> {
    return git(fx.bare, ['show', `main:${file}`]);
  }

  it('release: one bump commit with trailers, the new version answers, a record, no lock left', async () => {
    const before = (await remoteLog()).length;
    const outcome = await runRelease(deps(builds.v1), { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    const commits = (await remoteLog()).slice(0, (await remoteLog()).length - before);
    expect(commits.map((c) => c.files)).toEqual([[HISTORY], [OVERLAY]]);
    const bump = commits[1];
    expect(bump?.subject).toBe('chore(deploy): staging catalog h-111111111111');
    const trailers = parseBumpMessage(`${bump?.subject}\n\n${bump?.body}`);
    expect(trailers?.images.map((i) => [i.project, i.next.tag, i.previous.tag])).toEqual([
      ['catalog', 'h-111111111111', 'h-000000000000'],
    ]);
    expect(cluster.running?.version).toBe('1.0.0');
    const [record] = parseHistory(await remoteFile(HISTORY), HISTORY);
    expect(record).toMatchObject({
      kind: 'release',
      result: 'succeeded',
      commit: bump?.sha,
      projects: [{ project: 'catalog', to: refOf(builds.v1), smoke: 'pass' }],
    });
    expect(await git(fx.bare, ['for-each-ref', 'refs/slipway'])).toBe('');
  });

  it('push retry: someone else pushed meanwhile; the bump is re-applied on the new head and lands', async () => {
    const other = await fx.clone('other');
    const outcome = await runRelease(
      deps(builds.v2, {
        beforeImages: async () => {
          await fs.writeFile(path.join(other, 'README.md'), '# changed by someone else\n');
          await git(other, ['commit', '-qam', 'docs: unrelated change']);
          await git(other, ['push', '-q', 'origin', 'main']);
        },
      }),
      { releaseHold: false },
    );
    expect(outcome.exitCode).toBe(0);
    const [records, bump, unrelated] = await remoteLog();
    expect(unrelated?.subject).toBe('docs: unrelated change');
    expect(bump?.subject).toBe('chore(deploy): staging catalog h-222222222222');
    expect(records?.files).toEqual([HISTORY]);
    expect(logs.join('\n')).toMatch(
      /push to origin main rejected \(rejected\); fetching and re-applying on the new head/,
    );
    expect(cluster.running?.version).toBe('1.1.0');
    expect(await remoteFile('README.md')).toBe('# changed by someone else');
  });

  it('failed smoke: a revert commit restores v2 and holds catalog; both records are appended; exit 1', async () => {
    const before = (await remoteLog()).length;
    const outcome = await runRelease(deps(builds.broken), {
      releaseHold: false,
    });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toMatch(
      /release staging-\S+ failed \(catalog\); restored catalog → 127\.0\.0\.1:5000\/slipway\/catalog:h-222222222222; hold written for catalog/,
    );
    const log = await remoteLog();
    const commits = log.slice(0, log.length - before);
    expect(commits.map((c) => c.subject)).toEqual([
      expect.stringMatching(/^chore\(deploy\): record staging release rolled-back, rollback succeeded/),
      'revert(deploy): staging catalog h-222222222222',
      'chore(deploy): staging catalog h-333333333333',
    ]);
    expect(commits[1]?.files.sort()).toEqual([HOLDS, OVERLAY]);
    const revert = parseBumpMessage(`${commits[1]?.subject}\n\n${commits[1]?.body}`);
    expect(revert?.images.map((i) => [i.next.tag, i.previous.tag])).toEqual([['h-222222222222', 'h-333333333333']]);
    expect(commits[1]?.body).toContain('Automatic rollback of release staging-');
    expect(parseHoldFile(await remoteFile(HOLDS), HOLDS, 'staging').holds).toEqual([
      {
        project: 'catalog',
        reference: refOf(builds.v2),
        reason: expect.stringMatching(/automatic rollback of staging-\S+: smoke fail for .*h-333333333333/),
        since: expect.any(String),
      },
    ]);
    expect(cluster.running?.version).toBe('1.1.0');
    const records = parseHistory(await remoteFile(HISTORY), HISTORY);
    const [release, rollback] = records.slice(-2);
    expect(release).toMatchObject({
      kind: 'release',
      result: 'rolled-back',
      holds: ['catalog'],
      rolledBackBy: rollback?.id,
    });
    expect(release?.failures?.[0]).toMatch(/^catalog smoke fail: readiness/);
    expect(rollback).toMatchObject({
      kind: 'rollback',
      result: 'succeeded',
      rollbackOf: release?.id,
      commit: commits[1]?.sha,
    });
  });

  it('the hold keeps catalog from moving until it is named', async () => {
    const outcome = await runRelease(deps(builds.broken), {
      releaseHold: false,
    });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.message).toMatch(/^nothing to deploy/);
    expect(logs.join('\n')).toMatch(/catalog is held at 127\.0\.0\.1:5000\/slipway\/catalog:h-222222222222/);
  });

  it('rollback --to=previous: verifies the image, one revert commit, the older version answers', async () => {
    const outcome = await runRollback(deps(builds.v2), {
      to: 'previous',
      reason: 'compare with v1',
    });
    expect(outcome.exitCode).toBe(0);
    const [records, revert] = await remoteLog();
    expect(revert?.subject).toBe('revert(deploy): staging catalog h-111111111111');
    expect(revert?.body).toContain('Rollback of staging to previous requested by tester: compare with v1');
    expect(records?.files).toEqual([HISTORY]);
    expect(cluster.running?.version).toBe('1.0.0');
    expect(parseHoldFile(await remoteFile(HOLDS), HOLDS, 'staging').holds.map((h) => [h.project, h.reference])).toEqual(
      [['catalog', refOf(builds.v1)]],
    );
  });

  it('one release per environment: a held lock ref is refused naming its holder; a stale one is taken over', async () => {
    const holder = newHolder('staging', 'alice', 'nx run deploy:staging', new Date());
    const other = await fx.clone('locker');
    const lock = new GitRefReleaseLock(other, 'origin', 'refs/slipway/locks/staging', holder, {
      waitMs: 0,
      staleMs: 3_600_000,
    });
    await lock.acquire();
    const error = await runRelease(deps(builds.v2), {
      releaseHold: true,
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      new RegExp(
        `another release of staging is running: alice \\(pid ${process.pid} on ${os.hostname()}, since .*\\) holds refs/slipway/locks/staging in origin`,
      ),
    );
    await lock.release();
    expect(await git(fx.bare, ['for-each-ref', 'refs/slipway'])).toBe('');

    const stale = new GitRefReleaseLock(
      other,
      'origin',
      'refs/slipway/locks/staging',
      { ...holder, host: 'gone-runner', since: '2020-01-01T00:00:00.000Z' },
      { waitMs: 0, staleMs: 3_600_000 },
    );
    await stale.acquire();
    const outcome = await runRelease(deps(builds.v2), { releaseHold: true });
    expect(outcome.exitCode).toBe(0);
    expect(logs.join('\n')).toContain('taking over a stale release lock refs/slipway/locks/staging from alice (pid');
    expect(cluster.running?.version).toBe('1.1.0');
    // --release-hold moved the held project and removed its hold in the bump commit
    expect(parseHoldFile(await remoteFile(HOLDS), HOLDS, 'staging').holds).toEqual([]);
    expect(await git(fx.bare, ['for-each-ref', 'refs/slipway'])).toBe('');
  });
});
