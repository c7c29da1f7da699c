import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHoldFile } from '../../lib/gitops/holds';
import { parseHistory } from '../../lib/release/history';
import { childEnvironment } from '../../lib/release/images';
import { freePorts, linkNodeModules } from '../../testing/workspace-clone';

/**
 * End to end, the local environment for real: `nx run deploy:local` in a temporary clone of this
 * repository (its committed HEAD; workspace packages linked to the clone's own), with its own
 * registry and service ports (free ports of 3600-3699; registry data in the clone's .local/) and its
 * own pod names, so the
 * developer's working tree, registry and stack are never touched. buildah builds, the registry
 * stores, podman runs, the smoke library checks. Everything started is stopped in afterAll.
 *
 * k6 and Playwright stay off here (they have their own suites); the readiness timeout is short so a
 * broken release fails fast.
 */
/** Free ports from this suite's range (3600-3699), found in beforeAll: two runs can share the machine. */
const PORTS = { catalog: 0, orders: 0, web: 0 };
let REGISTRY = '';

// Every project with an image target. Not passed as --projects: naming a held project releases its hold.
const PROJECTS = ['catalog', 'orders', 'web'];
const INSTANCE = `slipway-e2e-${process.pid.toString(16)}`;
const WORKSPACE = path.resolve(__dirname, '../../../../..');
const MINUTES = 60_000;

interface Run {
  code: number;
  output: string;
  ms: number;
}

describe('deploy:local end to end (temporary clone, real registry, podman, smoke)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-deploy-e2e-'));
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
    GITHUB_STEP_SUMMARY: path.join(tmp, 'step-summary.md'),
  });
  delete env['NX_BASE'];
  delete env['NX_HEAD'];
  // Each nx run here is a top-level invocation, as from a terminal: if they inherited the Nx that
  // runs this suite as their root, Nx would take two concurrent deploy:local runs for a loop.
  delete env['NX_INVOCATION_ROOT_PID'];
  delete env['SLIPWAY_WEBHOOK_URL'];
  const gitops = path.join(repo, '.local/deploy/local/repo');
  const overrides = () => [
    `--registry=${REGISTRY}`,
    `--ports=${Object.entries(PORTS)
      .map(([p, n]) => `${p}=${n}`)
      .join(',')}`,
    `--instance=${INSTANCE}`,
    '--smokeK6=false',
    '--smokePlaywright=false',
    // PGlite's start takes 20-60 s on a loaded two-core machine; a release waits for it.
    '--smokeReadinessTimeoutMs=180000',
    '--imageParallel=1',
  ];
  const background: ChildProcess[] = [];

  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const nxArgs = (target: string, extra: string[]) => [
    path.join(repo, 'node_modules/nx/dist/bin/nx.js'),
    'run',
    target,
    '--outputStyle=static',
    ...extra,
  ];
  const nx = (target: string, extra: string[] = overrides(), timeoutMs = 40 * MINUTES): Promise<Run> =>
    new Promise((resolve) => {
      const started = Date.now();
      const child = spawn(process.execPath, nxArgs(target, extra), {
        cwd: repo,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
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
  const health = async (project: keyof typeof PORTS): Promise<{ version: string; revision: string } | undefined> => {
    try {
      const r = await fetch(`http://127.0.0.1:${PORTS[project]}/health`, {
        signal: AbortSignal.timeout(3000),
      });
      return (await r.json()) as { version: string; revision: string };
    } catch {
      return undefined;
    }
  };
  const records = () =>
    parseHistory(readFileSync(path.join(gitops, 'deploy/history/local.jsonl'), 'utf8'), 'local.jsonl');
  const imageRecord = (p: string) =>
    JSON.parse(readFileSync(path.join(repo, 'dist/images', `${p}.json`), 'utf8')) as {
      reused: boolean;
      contentTag: string;
    };
  const containers = () => {
    const r = spawnSync(
      'podman',
      ['--storage-driver', 'vfs', 'ps', '--filter', `label=slipway.dev/instance=${INSTANCE}`, '--format', 'json'],
      { encoding: 'utf8' },
    );
    return (
      JSON.parse(r.stdout || '[]') as {
        Id: string;
        Names: string[];
        StartedAt: number;
        Labels: Record<string, string>;
      }[]
    ).filter((c) => c.Labels?.['slipway.dev/project']);
  };
  const explain = (run: Run) => `exit ${run.code} after ${Math.round(run.ms / 1000)} s\n${run.output.slice(-6000)}`;

  beforeAll(async () => {
    const [registryPort, catalog, orders, web] = await freePorts(4, 3600);
    REGISTRY = `127.0.0.1:${registryPort}`;
    Object.assign(PORTS, { catalog, orders, web });
    const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', WORKSPACE, repo], { encoding: 'utf8' });
    if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
    linkNodeModules(WORKSPACE, repo);
    // What setup.sh does on a developer machine: the local signing key the images are signed with
    // and the local-key trust policy verifies (.local/ is not part of a clone).
    const key = spawnSync('bash', ['tools/scripts/local-signing-key.sh'], { cwd: repo, encoding: 'utf8' });
    if (key.status !== 0) throw new Error(`local-signing-key.sh failed: ${key.stderr}`);
  });

  afterAll(() => {
    for (const child of background) if (child.exitCode === null) child.kill('SIGKILL');
    const pods = spawnSync(
      'podman',
      [
        '--storage-driver',
        'vfs',
        'pod',
        'ps',
        '--filter',
        `label=slipway.dev/instance=${INSTANCE}`,
        '--format',
        '{{.Name}}',
      ],
      { encoding: 'utf8' },
    )
      .stdout.split('\n')
      .filter(Boolean);
    if (pods.length > 0)
      spawnSync(
        'podman',
        [
          '--storage-driver',
          'vfs',
          '--cgroup-manager',
          'cgroupfs',
          '--runtime',
          'runc',
          'pod',
          'rm',
          '--force',
          '--time',
          '5',
          ...pods,
        ],
        { encoding: 'utf8' },
      );
    if (existsSync(path.join(repo, 'tools/scripts/local-prereqs.sh')))
      spawnSync('bash', [path.join(repo, 'tools/scripts/local-prereqs.sh'), '--stop'], {
        cwd: repo,
        env: { ...env, SLIPWAY_REGISTRY_ADDR: REGISTRY },
      });
    // The registry may still be flushing files as it stops: retry the removal briefly.
    rmSync(tmp, {
      recursive: true,
      force: true,
      maxRetries: 10,
      retryDelay: 500,
    });
  }, 5 * MINUTES);

  it(
    'deploy v1: builds every image, deploys, smoke passes, the working tree stays clean',
    async () => {
      const run = await nx('deploy:local');
      expect({
        code: run.code,
        tail: run.code === 0 ? '' : explain(run),
      }).toEqual({ code: 0, tail: '' });
      expect(run.output).toMatch(/local release local-\S+: succeeded in/);
      for (const p of PROJECTS) {
        expect(imageRecord(p).reused).toBe(false);
        expect((await health(p as keyof typeof PORTS))?.version).toBe('0.0.1');
      }
      const [release] = records();
      expect(release).toMatchObject({
        kind: 'release',
        result: 'succeeded',
        environment: 'local',
        mode: 'podman',
      });
      expect(release?.projects.map((p) => [p.project, p.built, p.smoke])).toEqual(
        PROJECTS.map((p) => [p, true, 'pass']),
      );
      expect(git('status', '--porcelain')).toBe('');
      expect(readFileSync(path.join(tmp, 'step-summary.md'), 'utf8')).toContain('local release');
      // Every image was signed by the image step and verified by the deploy before it was applied.
      expect(release?.projects.map((p) => [p.project, p.verified])).toEqual(PROJECTS.map((p) => [p, true]));
      expect(run.output).toMatch(/project +from +to +image +signature +smoke/);
      for (const p of PROJECTS) expect(run.output).toMatch(new RegExp(`${p}\\s.*\\sbuilt\\s+verified\\s+pass`));
    },
    45 * MINUTES,
  );

  it(
    'change catalog → only catalog is rebuilt, the new version answers, orders is untouched',
    async () => {
      const ordersBefore = containers().find((c) => c.Labels['slipway.dev/project'] === 'orders');
      const pkgFile = path.join(repo, 'apps/catalog/package.json');
      writeFileSync(pkgFile, readFileSync(pkgFile, 'utf8').replace('"version": "0.0.1"', '"version": "0.0.2"'));
      git('commit', '-qam', 'feat(catalog): 0.0.2');
      const run = await nx('deploy:local');
      expect({
        code: run.code,
        tail: run.code === 0 ? '' : explain(run),
      }).toEqual({ code: 0, tail: '' });
      expect(imageRecord('catalog').reused).toBe(false);
      for (const p of PROJECTS.filter((x) => x !== 'catalog')) expect(imageRecord(p).reused).toBe(true);
      expect(await health('catalog')).toMatchObject({
        version: '0.0.2',
        revision: git('rev-parse', 'HEAD'),
      });
      const ordersAfter = containers().find((c) => c.Labels['slipway.dev/project'] === 'orders');
      expect(ordersAfter?.Id).toBe(ordersBefore?.Id);
      expect(ordersAfter?.StartedAt).toBe(ordersBefore?.StartedAt);
      const last = records().pop();
      expect(last?.projects.map((p) => [p.project, p.built, p.smoke])).toEqual([['catalog', true, 'pass']]);
      expect(git('status', '--porcelain')).toBe('');
    },
    30 * MINUTES,
  );

  it(
    'no change → nothing to deploy, no build, exit 0',
    async () => {
      const before = records().length;
      const run = await nx('deploy:local');
      expect({
        code: run.code,
        tail: run.code === 0 ? '' : explain(run),
      }).toEqual({ code: 0, tail: '' });
      expect(run.output).toMatch(/nothing to deploy: catalog h-[0-9a-f]{12}/);
      for (const p of PROJECTS) expect(imageRecord(p).reused).toBe(true);
      expect(records()).toHaveLength(before);
    },
    20 * MINUTES,
  );

  it(
    'a catalog that fails readiness → automatic rollback: the previous version answers, a hold, a record, exit ≠ 0',
    async () => {
      const good = await health('catalog');
      // Readiness checks Redis when REDIS_URL is set; nothing listens on port 9, so /health/readiness stays 503.
      appendFileSync(path.join(repo, 'apps/catalog/Dockerfile'), '\nENV REDIS_URL=redis://127.0.0.1:9\n');
      const pkgFile = path.join(repo, 'apps/catalog/package.json');
      writeFileSync(pkgFile, readFileSync(pkgFile, 'utf8').replace('"version": "0.0.2"', '"version": "0.0.3"'));
      git('commit', '-qam', 'fix(catalog): 0.0.3 (never becomes ready)');
      const run = await nx('deploy:local', [
        ...overrides().filter((o) => !o.startsWith('--smokeReadinessTimeoutMs')),
        // it never becomes ready: give up after 90 s (the restored catalog must start within it too)
        '--smokeReadinessTimeoutMs=90000',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.output).toMatch(
        /local: release local-\S+ failed \(catalog\); restored catalog → 127\.0\.0\.1:\d+\/slipway\/catalog:h-[0-9a-f]{12}; hold written for catalog/,
      );
      expect(run.output).toMatch(/catalog smoke (fail|inconclusive): readiness/);
      expect(await health('catalog')).toMatchObject({
        version: '0.0.2',
        revision: good?.revision,
      });
      const holds = parseHoldFile(
        readFileSync(path.join(gitops, 'deploy/holds/local.json'), 'utf8'),
        'holds',
        'local',
      ).holds;
      expect(holds.map((h) => h.project)).toEqual(['catalog']);
      const [release, rollback] = records().slice(-2);
      expect(release).toMatchObject({
        kind: 'release',
        result: 'rolled-back',
        holds: ['catalog'],
      });
      expect(rollback).toMatchObject({
        kind: 'rollback',
        result: 'succeeded',
        rollbackOf: release?.id,
      });
      const log = spawnSync('git', ['log', '--format=%s', '-4'], {
        cwd: gitops,
        encoding: 'utf8',
      }).stdout;
      expect(log).toMatch(
        /^chore\(deploy\): record local release rolled-back, rollback succeeded\nrevert\(deploy\): local catalog h-[0-9a-f]{12}\nchore\(deploy\): local catalog h-[0-9a-f]{12}\n/,
      );
      expect(git('status', '--porcelain')).toBe('');
    },
    30 * MINUTES,
  );

  it(
    'deploy:rollback --to=previous restores the release before, verified in the registry, with a hold',
    async () => {
      const run = await nx('deploy:rollback', [
        '--env=local',
        '--to=previous',
        '--reason=e2e check',
        ...overrides().filter((o) => !o.startsWith('--imageParallel')),
      ]);
      expect({
        code: run.code,
        tail: run.code === 0 ? '' : explain(run),
      }).toEqual({ code: 0, tail: '' });
      expect((await health('catalog'))?.version).toBe('0.0.1');
      const last = records().pop();
      expect(last).toMatchObject({
        kind: 'rollback',
        result: 'succeeded',
        reason: 'e2e check',
        rollbackOf: 'previous',
        holds: ['catalog'],
      });
      expect(last?.projects.map((p) => p.project)).toEqual(['catalog']);
    },
    20 * MINUTES,
  );

  it(
    'a second concurrent deploy:local is refused, naming the running one',
    async () => {
      const lockFile = path.join(repo, '.local/deploy/locks/local.lock');
      let firstDone = false;
      const first = nx('deploy:local').finally(() => (firstDone = true));
      const deadline = Date.now() + 10 * MINUTES;
      while (!existsSync(lockFile) && !firstDone && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(existsSync(lockFile)).toBe(true);
      const second = await nx('deploy:local');
      expect(second.code).not.toBe(0);
      expect(second.output).toMatch(
        /another release of local is running: .+ \(pid \d+ on .+, since .+, nx run deploy:local\) holds .+local\.lock/,
      );
      const done = await first;
      expect({
        code: done.code,
        tail: done.code === 0 ? '' : explain(done),
      }).toEqual({ code: 0, tail: '' });
      // catalog is held (rolled back above), so the first run leaves it where it is
      expect(done.output).toMatch(/catalog is held at/);
      expect(existsSync(lockFile)).toBe(false);
    },
    30 * MINUTES,
  );
});
