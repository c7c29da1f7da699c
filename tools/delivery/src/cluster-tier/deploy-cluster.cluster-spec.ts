import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHoldFile } from '../lib/gitops/holds';
import { parseHistory, type ReleaseRecord } from '../lib/release/history';
import { childEnvironment } from '../lib/release/images';
import { linkNodeModules } from '../testing/workspace-clone';
import { CLUSTER_DIR, WORKSPACE, clusterEnv, kubectl, kubectlOk } from './cluster';

/**
 * `nx run deploy:cluster` for real, in a temporary clone of this repository (its committed HEAD),
 * against this machine's Kubernetes (tools/scripts/cluster.sh): images built and pushed to the
 * cluster's registry, the bump committed to the clone's local GitOps repository, server-side apply
 * with prune, the rollout wait on pod states, the smoke through the NodePorts on 127.0.0.1, the
 * release record. Then each way a release fails on a real cluster: a fail verdict with its reason,
 * the automatic rollback, the previous version answering, the failed service held.
 */
const MINUTES = 60_000;
const NAMESPACE = 'slipway-cluster';
const NODE_PORTS = { catalog: 30101, orders: 30102, web: 30300 } as const;
const PROJECTS = ['catalog', 'orders', 'web'];

interface Run {
  code: number;
  output: string;
  ms: number;
}

describe('deploy:cluster on the real cluster (temporary clone, kubectl mode)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-deploy-cluster-'));
  const repo = path.join(tmp, 'repo');
  const env: NodeJS.ProcessEnv = childEnvironment(process.env, {
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: path.join(tmp, 'nx-cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(tmp, 'nx-data'),
    GIT_AUTHOR_NAME: 'Slipway E2E',
    GIT_AUTHOR_EMAIL: 'e2e@slipway.invalid',
    GIT_COMMITTER_NAME: 'Slipway E2E',
    GIT_COMMITTER_EMAIL: 'e2e@slipway.invalid',
    FORCE_COLOR: '0',
  });
  for (const key of ['NX_BASE', 'NX_HEAD', 'NX_INVOCATION_ROOT_PID', 'SLIPWAY_WEBHOOK_URL', 'GITHUB_STEP_SUMMARY'])
    delete env[key];
  const gitops = path.join(repo, '.local/deploy/cluster/repo');
  const background: ChildProcess[] = [];
  // The clone has no cluster of its own: it releases to the one this machine runs.
  const base = () => [`--clusterEnv=${path.join(CLUSTER_DIR, 'env')}`, '--imageParallel=1'];
  const quick = ['--smokeK6=false', '--smokePlaywright=false'];

  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const nx = (target: string, extra: string[], timeoutMs = 40 * MINUTES): Promise<Run> =>
    new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(
        process.execPath,
        [path.join(repo, 'node_modules/nx/dist/bin/nx.js'), 'run', target, '--outputStyle=static', ...extra],
        { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      background.push(child);
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, output, ms: Date.now() - started });
      });
    });
  const explain = (run: Run) => `exit ${run.code} after ${Math.round(run.ms / 1000)} s\n${run.output.slice(-8000)}`;
  const health = async (project: keyof typeof NODE_PORTS) => {
    try {
      const r = await fetch(`http://127.0.0.1:${NODE_PORTS[project]}/health`, { signal: AbortSignal.timeout(3000) });
      return (await r.json()) as { version: string; revision: string; service: string };
    } catch {
      return undefined;
    }
  };
  const records = (): ReleaseRecord[] =>
    parseHistory(readFileSync(path.join(gitops, 'deploy/history/cluster.jsonl'), 'utf8'), 'cluster.jsonl');
  const holds = () =>
    parseHoldFile(readFileSync(path.join(gitops, 'deploy/holds/cluster.json'), 'utf8'), 'holds', 'cluster').holds.map(
      (h) => h.project,
    );
  const setCatalogVersion = (version: string) => {
    const file = path.join(repo, 'apps/catalog/package.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/"version": "[^"]+"/, `"version": "${version}"`));
  };
  const dockerfile = path.join(repo, 'apps/catalog/Dockerfile');
  let goodDockerfile = '';

  /** A catalog release that must fail: version bump plus one Dockerfile line, committed. */
  async function failingCatalog(version: string, dockerLine: string | undefined, extra: string[] = []) {
    writeFileSync(dockerfile, dockerLine ? `${goodDockerfile}\n${dockerLine}\n` : goodDockerfile);
    setCatalogVersion(version);
    git('commit', '-qam', `test(catalog): ${version} breaks on the cluster`);
    const before = records().length;
    // Naming catalog releases the hold an earlier failure left on it.
    const run = await nx('deploy:cluster', [...base(), ...quick, '--projects=catalog', ...extra]);
    const [release, rollback] = records().slice(before);
    return { run, release, rollback };
  }

  async function expectRolledBack(outcome: Awaited<ReturnType<typeof failingCatalog>>, reason: RegExp): Promise<void> {
    const { run, release, rollback } = outcome;
    // The figures of the benchmark goals, as this run measured them.
    process.stdout.write(
      `figures: apply → verdict ${release?.stages?.['apply']} ms; rollback (bump, apply, smoke) ${rollback?.durationMs} ms; whole release ${run.ms} ms; ${release?.failures?.[0]?.split('\n')[0]}\n`,
    );
    expect({ code: run.code === 0 ? 0 : 1, tail: run.code === 0 ? explain(run) : '' }).toEqual({ code: 1, tail: '' });
    expect(release).toMatchObject({ kind: 'release', mode: 'kubectl', result: 'rolled-back', holds: ['catalog'] });
    expect(release?.failures?.join('\n')).toMatch(reason);
    expect(rollback).toMatchObject({ kind: 'rollback', result: 'succeeded', rollbackOf: release?.id });
    expect(await health('catalog')).toMatchObject({ service: 'catalog', version: '0.0.2' });
    expect(holds()).toEqual(['catalog']);
  }

  beforeAll(() => {
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', WORKSPACE, repo], { encoding: 'utf8' });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    linkNodeModules(WORKSPACE, repo);
    goodDockerfile = readFileSync(dockerfile, 'utf8');
    // A ConfigMap only the first release renders: the second must prune it.
    const overlay = path.join(repo, 'deploy/k8s/overlays/cluster');
    writeFileSync(
      path.join(overlay, 'prune-probe.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: prune-probe\ndata:\n  purpose: removed by the next release\n',
    );
    const kustomization = path.join(overlay, 'kustomization.yaml');
    writeFileSync(
      kustomization,
      readFileSync(kustomization, 'utf8').replace('  - ../staging\n', '  - ../staging\n  - prune-probe.yaml\n'),
    );
    git('add', '-A');
    git('commit', '-qm', 'test: a ConfigMap for the prune check');
    // A namespace left by an earlier run would make this one's first release a no-op.
    spawnSync(clusterEnv()['CLUSTER_KUBECTL'] as string, [
      '--kubeconfig',
      clusterEnv()['KUBECONFIG'] as string,
      'delete',
      'namespace',
      NAMESPACE,
      '--ignore-not-found',
      '--wait=true',
      '--timeout=120s',
    ]);
  }, 5 * MINUTES);

  afterAll(async () => {
    for (const child of background) if (child.exitCode === null) child.kill('SIGKILL');
    await kubectl(['delete', 'namespace', NAMESPACE, '--ignore-not-found', '--wait=false']);
    rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }, 5 * MINUTES);

  it(
    'v1: builds and pushes the three images, applies server-side, rolls out, and every smoke layer passes',
    async () => {
      const run = await nx('deploy:cluster', base());
      expect({ code: run.code, tail: run.code === 0 ? '' : explain(run) }).toEqual({ code: 0, tail: '' });
      expect(run.output).toMatch(/cluster release cluster-\S+: succeeded in/);
      const [release] = records();
      expect(release).toMatchObject({ kind: 'release', result: 'succeeded', environment: 'cluster', mode: 'kubectl' });
      expect(release?.projects.map((p) => [p.project, p.built, p.smoke])).toEqual(
        PROJECTS.map((p) => [p, true, 'pass']),
      );
      // k6 and Playwright @smoke ran as part of that smoke (web's report names both layers).
      expect(run.output).toMatch(/k6/);
      expect(run.output).toMatch(/playwright/i);
      const registry = clusterEnv()['CLUSTER_REGISTRY'] as string;
      const deployments = JSON.parse(await kubectlOk(['-n', NAMESPACE, 'get', 'deployments', '-o', 'json'])).items as {
        metadata: { name: string; managedFields: { manager: string; operation: string }[] };
        spec: { template: { spec: { containers: { image: string }[] } } };
      }[];
      for (const d of deployments) {
        expect(d.spec.template.spec.containers[0]?.image).toMatch(
          new RegExp(`^${registry.replace('.', '\\.')}/slipway/${d.metadata.name}:h-[0-9a-f]{12}@sha256:[0-9a-f]{64}$`),
        );
        expect(d.metadata.managedFields).toContainEqual(
          expect.objectContaining({ manager: 'slipway-deploy', operation: 'Apply' }),
        );
      }
      expect(await kubectlOk(['-n', NAMESPACE, 'get', 'configmap', 'prune-probe', '-o', 'name'])).toBe(
        'configmap/prune-probe\n',
      );
      // orders reaches catalog by its Service name, from inside its pod.
      const fromOrders = await kubectlOk([
        '-n',
        NAMESPACE,
        'exec',
        'deploy/orders',
        '--',
        'node',
        '-e',
        "fetch(process.env.CATALOG_URL + '/health').then(r => r.json()).then(j => console.log(process.env.CATALOG_URL, j.service))",
      ]);
      expect(fromOrders.trim()).toBe('http://catalog:3101 catalog');
      for (const p of PROJECTS) expect((await health(p as keyof typeof NODE_PORTS))?.version).toBe('0.0.1');
      expect(git('status', '--porcelain')).toBe('');
    },
    45 * MINUTES,
  );

  it(
    'no change: nothing to deploy',
    async () => {
      const before = records().length;
      const run = await nx('deploy:cluster', [...base(), ...quick]);
      expect({ code: run.code, tail: run.code === 0 ? '' : explain(run) }).toEqual({ code: 0, tail: '' });
      expect(run.output).toMatch(/nothing to deploy: catalog h-[0-9a-f]{12}/);
      process.stdout.write(`figures: no-change deploy:cluster ${run.ms} ms\n`);
      expect(records()).toHaveLength(before);
    },
    15 * MINUTES,
  );

  it(
    'catalog 0.0.2: only catalog moves, and what the release no longer renders is pruned',
    async () => {
      const overlay = path.join(repo, 'deploy/k8s/overlays/cluster');
      const kustomization = path.join(overlay, 'kustomization.yaml');
      writeFileSync(kustomization, readFileSync(kustomization, 'utf8').replace('  - prune-probe.yaml\n', ''));
      rmSync(path.join(overlay, 'prune-probe.yaml'));
      setCatalogVersion('0.0.2');
      git('commit', '-qam', 'feat(catalog): 0.0.2');
      const ordersBefore = await kubectlOk([
        '-n',
        NAMESPACE,
        'get',
        'pods',
        '-l',
        'app.kubernetes.io/name=orders',
        '-o',
        'name',
      ]);
      const run = await nx('deploy:cluster', [...base(), ...quick]);
      expect({ code: run.code, tail: run.code === 0 ? '' : explain(run) }).toEqual({ code: 0, tail: '' });
      expect(
        records()
          .pop()
          ?.projects.map((p) => [p.project, p.smoke]),
      ).toEqual([['catalog', 'pass']]);
      expect(await health('catalog')).toMatchObject({ version: '0.0.2', revision: git('rev-parse', 'HEAD') });
      const probe = await kubectl(['-n', NAMESPACE, 'get', 'configmap', 'prune-probe']);
      expect(probe.stderr).toMatch(/NotFound/);
      expect(
        await kubectlOk(['-n', NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/name=orders', '-o', 'name']),
      ).toBe(ordersBefore);
    },
    30 * MINUTES,
  );

  it(
    'a catalog that exits at start on a config error: fail with the exit and its log, rollback, hold',
    async () => {
      const outcome = await failingCatalog('0.0.3', 'ENV RATE_LIMIT_MAX=lots');
      await expectRolledBack(
        outcome,
        /catalog will not become ready: pod catalog-\S+: catalog: (CrashLoopBackOff: )?exited 1/,
      );
      expect(outcome.release?.failures?.join('\n')).toMatch(/RATE_LIMIT_MAX/);
    },
    30 * MINUTES,
  );

  it(
    'a catalog whose image is missing from the registry: fail with the pull error, rollback, hold',
    async () => {
      // The image step's record for a new version, then its digest replaced by one the registry never had.
      writeFileSync(dockerfile, goodDockerfile);
      setCatalogVersion('0.0.4');
      git('commit', '-qam', 'feat(catalog): 0.0.4');
      const recordFile = path.join(repo, 'dist/images/catalog.json');
      const registry = clusterEnv()['CLUSTER_REGISTRY'] as string;
      const prereqs = spawnSync('bash', [path.join(repo, 'tools/scripts/local-prereqs.sh'), '--print-env'], {
        cwd: repo,
        env,
        encoding: 'utf8',
      }).stdout;
      env['NODE_IMAGE'] = /NODE_IMAGE=(\S+)/.exec(prereqs)?.[1];
      env['SLIPWAY_REGISTRY'] = registry;
      const image = await nx('catalog:image', ['--skip-sync']);
      delete env['NODE_IMAGE'];
      delete env['SLIPWAY_REGISTRY'];
      expect({ code: image.code, tail: image.code === 0 ? '' : explain(image) }).toEqual({ code: 0, tail: '' });
      const record = JSON.parse(readFileSync(recordFile, 'utf8'));
      const missing = `sha256:${'0'.repeat(63)}1`;
      record.image = String(record.image).replace(/sha256:[0-9a-f]{64}/, missing);
      record.digest = missing;
      writeFileSync(recordFile, JSON.stringify(record, null, 2));
      const before = records().length;
      const run = await nx('deploy:cluster', [...base(), ...quick, '--projects=catalog', '--images=records']);
      const [release, rollback] = records().slice(before);
      await expectRolledBack({ run, release, rollback }, /catalog: (ErrImagePull|ImagePullBackOff): .*not found/);
    },
    30 * MINUTES,
  );

  it(
    'a catalog that never becomes ready: fail on the failing readiness probe, rollback, hold',
    async () => {
      // Readiness checks Redis when REDIS_URL is set; nothing listens on port 9, so it stays 503.
      const outcome = await failingCatalog('0.0.5', 'ENV REDIS_URL=redis://127.0.0.1:9');
      await expectRolledBack(outcome, /catalog: readiness probe failing \(\d+ failures\): Readiness probe failed/);
    },
    30 * MINUTES,
  );

  it(
    'a catalog killed for memory: fail with OOMKilled, rollback, hold',
    async () => {
      // 700 MB touched at start, above the 512Mi limit of the Deployment: the kernel kills it.
      const outcome = await failingCatalog(
        '0.0.6',
        'ENV NODE_OPTIONS="--import=data:text/javascript,globalThis.ballast=Buffer.alloc(700e6,1)"',
      );
      await expectRolledBack(outcome, /catalog: (CrashLoopBackOff: OOM-killed|OOMKilled)/);
    },
    30 * MINUTES,
  );

  it(
    'a catalog that runs but fails its HTTP smoke (the version gate): fail, rollback, hold',
    async () => {
      const outcome = await failingCatalog('0.0.7', 'ENV APP_VERSION=0.0.0-wrong', ['--smokeExpectTimeoutMs=20000']);
      await expectRolledBack(outcome, /catalog/);
      expect(outcome.release?.projects.find((p) => p.project === 'catalog')?.smoke).toBe('fail');
    },
    30 * MINUTES,
  );
});
