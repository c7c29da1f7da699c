import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHistory } from '../../lib/release/history';
import { childEnvironment } from '../../lib/release/images';
import { freePort } from '../../testing/local-registry';
import { removeInstancePods } from '../../testing/podman-pods';
import { cloneWorkspace } from '../../testing/workspace-clone';

/**
 * Promotion end to end on this machine: two real environments (podman mode, spare ports, their own
 * pods) sharing ONE GitOps remote (a bare repository; the clone's deploy/ is the working copy), in a
 * temporary clone of this repository. `stage` is released by building; `prod` only ever promotes
 * what `stage` verified. Environments are named stage/prod: their overlays are copies of the
 * podman-ready local overlay, so the real staging/production overlays stay untouched.
 */
const MINUTES = 60_000;
const PROJECTS = ['catalog', 'orders'];
const INSTANCE = `slipway-promo-${process.pid.toString(16)}`;

interface Run {
  code: number;
  output: string;
}

describe('deploy:production-style promotion between two podman environments', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-promotion-e2e-'));
  const repo = path.join(tmp, 'repo');
  const remote = path.join(tmp, 'gitops.git');
  const PORTS: Record<string, Record<string, number>> = { stage: {}, prod: {} };
  let REGISTRY = '';
  const background: ChildProcess[] = [];
  const env: NodeJS.ProcessEnv = childEnvironment(process.env, {
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: path.join(tmp, 'nx-cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(tmp, 'nx-data'),
    GIT_AUTHOR_NAME: 'Slipway Promotion E2E',
    GIT_AUTHOR_EMAIL: 'e2e@slipway.invalid',
    GIT_COMMITTER_NAME: 'Slipway Promotion E2E',
    GIT_COMMITTER_EMAIL: 'e2e@slipway.invalid',
    FORCE_COLOR: '0',
    HUSKY: '0',
  });
  delete env['NX_BASE'];
  delete env['NX_HEAD'];
  delete env['NX_INVOCATION_ROOT_PID'];
  delete env['SLIPWAY_WEBHOOK_URL'];
  delete env['GITHUB_STEP_SUMMARY'];

  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: repo, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const remoteGit = (...args: string[]) =>
    spawnSync('git', ['--git-dir', remote, ...args], { encoding: 'utf8' }).stdout.trim();
  const envOptions = (name: 'stage' | 'prod', projects = PROJECTS) => [
    `--environment=${name}`,
    '--repository=workspace',
    `--registry=${REGISTRY}`,
    `--instance=${INSTANCE}-${name}`,
    `--ports=${Object.entries(PORTS[name] as Record<string, number>)
      .map(([p, n]) => `${p}=${n}`)
      .join(',')}`,
    `--projects=${projects.join(',')}`,
    '--smokeK6=false',
    '--smokePlaywright=false',
    '--smokeReadinessTimeoutMs=180000',
    '--imageParallel=1',
  ];
  const nx = (extra: string[], timeoutMs = 30 * MINUTES): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(
        process.execPath,
        [path.join(repo, 'node_modules/nx/dist/bin/nx.js'), 'run', 'deploy:local', '--outputStyle=static', ...extra],
        { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      background.push(child);
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? 1, output });
      });
    });
  const promote = (extra: string[] = [], projects = PROJECTS) =>
    nx([...envOptions('prod', projects), '--promoteFrom=stage', ...extra]);
  const history = (name: string) => {
    const file = path.join(repo, 'deploy/history', `${name}.jsonl`);
    return existsSync(file) ? parseHistory(readFileSync(file, 'utf8'), file) : [];
  };
  const pinned = (name: string, project: string) => {
    const text = readFileSync(path.join(repo, 'deploy/k8s/overlays', name, 'kustomization.yaml'), 'utf8');
    const block = text.split(`- name: slipway/${project}`)[1] ?? '';
    return /digest: (sha256:[0-9a-f]{64})/.exec(block)?.[1];
  };
  /** What the running service says it is (uptime and check timings left out: they differ per process). */
  const health = async (name: string, project: string) => {
    try {
      const r = await fetch(`http://127.0.0.1:${PORTS[name]?.[project]}/health`, { signal: AbortSignal.timeout(3000) });
      const { service, version, revision } = (await r.json()) as { service: string; version: string; revision: string };
      return { service, version, revision };
    } catch {
      return undefined;
    }
  };
  const explain = (run: Run) => `exit ${run.code}\n${run.output.slice(-5000)}`;
  /** Nothing written: the remote's branch head and the prod overlay and history are as before. */
  const snapshot = () => ({
    head: remoteGit('rev-parse', 'refs/heads/main'),
    prod: readFileSync(path.join(repo, 'deploy/k8s/overlays/prod/kustomization.yaml'), 'utf8'),
    records: history('prod').length,
  });

  beforeAll(async () => {
    REGISTRY = `127.0.0.1:${await freePort()}`;
    for (const name of ['stage', 'prod'])
      for (const p of PROJECTS) (PORTS[name] as Record<string, number>)[p] = await freePort();
    cloneWorkspace(repo);
    git('checkout', '-q', '-B', 'main');
    for (const name of ['stage', 'prod']) {
      cpSync(path.join(repo, 'deploy/k8s/overlays/local'), path.join(repo, 'deploy/k8s/overlays', name), {
        recursive: true,
      });
      writeFileSync(
        path.join(repo, 'deploy/holds', `${name}.json`),
        `{\n  "environment": "${name}",\n  "holds": []\n}\n`,
      );
    }
    // Smoke settings per environment: both answer on this machine, on their own ports.
    for (const project of PROJECTS) {
      const file = path.join(repo, 'apps', project, 'smoke.json');
      const smoke = JSON.parse(readFileSync(file, 'utf8')) as { environments: Record<string, unknown> };
      for (const name of ['stage', 'prod'])
        smoke.environments[name] = { baseUrl: `http://127.0.0.1:${PORTS[name]?.[project]}` };
      writeFileSync(file, `${JSON.stringify(smoke, null, 2)}\n`);
    }
    git('add', '-A');
    git('commit', '-qm', 'test: stage and prod podman environments');
    spawnSync('git', ['init', '-q', '--bare', '--initial-branch=main', remote]);
    git('remote', 'set-url', 'origin', remote);
    git('push', '-q', 'origin', 'main');
    git('branch', '-q', '--set-upstream-to=origin/main');
  }, 5 * MINUTES);

  afterAll(() => {
    for (const child of background) if (child.exitCode === null) child.kill('SIGKILL');
    for (const name of ['stage', 'prod']) removeInstancePods(`${INSTANCE}-${name}`);
    if (existsSync(path.join(repo, 'tools/scripts/local-prereqs.sh')))
      spawnSync('bash', [path.join(repo, 'tools/scripts/local-prereqs.sh'), '--stop'], {
        cwd: repo,
        env: { ...env, SLIPWAY_REGISTRY_ADDR: REGISTRY },
      });
    rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
  }, 5 * MINUTES);

  it(
    'releases stage by building; prod refuses to promote before the soak time, writing nothing',
    async () => {
      const staged = await nx(envOptions('stage'));
      expect({ code: staged.code, tail: staged.code === 0 ? '' : explain(staged) }).toEqual({ code: 0, tail: '' });
      const [release] = history('stage');
      expect(release?.projects.map((p) => [p.project, p.smoke])).toEqual([
        ['catalog', 'pass'],
        ['orders', 'pass'],
      ]);
      const before = snapshot();
      const early = await promote(['--soak=2h']);
      expect(early.code).not.toBe(0);
      for (const p of PROJECTS)
        expect(early.output).toContain(
          `${p} ${pinned('stage', p)}: soaking: verified in stage at ${release?.finishedAt}`,
        );
      expect(snapshot()).toEqual(before);
      expect(await health('prod', 'catalog')).toBeUndefined();
    },
    40 * MINUTES,
  );

  it(
    'the dry run prints the plan; --force --reason promotes catalog and records the reason',
    async () => {
      const dry = await promote(['--soak=2h', '--dryRun']);
      expect(dry.output).toMatch(/promotion stage → prod:/);
      expect(dry.output).toMatch(/REFUSED catalog sha256:[0-9a-f]{64}: soaking/);
      const before = snapshot();
      const forced = await promote(['--soak=2h', '--force', '--reason=INC-7 verified by hand'], ['catalog']);
      expect({ code: forced.code, tail: forced.code === 0 ? '' : explain(forced) }).toEqual({ code: 0, tail: '' });
      expect(remoteGit('rev-parse', 'refs/heads/main')).not.toBe(before.head);
      expect(pinned('prod', 'catalog')).toBe(pinned('stage', 'catalog'));
      const stageHealth = await health('stage', 'catalog');
      expect(await health('prod', 'catalog')).toEqual(stageHealth);
      const record = history('prod').pop();
      expect(record).toMatchObject({
        result: 'succeeded',
        reason: 'INC-7 verified by hand',
        forced: ['catalog: soaking'],
        promotedFrom: { environment: 'stage', records: { catalog: history('stage')[0]?.id } },
        projects: [{ project: 'catalog', built: false, smoke: 'pass' }],
      });
      const message = git('log', '--format=%B', '-1', record?.commit as string);
      expect(message).toContain(
        `Slipway-Promoted-From: catalog stage ${history('stage')[0]?.id} ${pinned('stage', 'catalog')}`,
      );
      expect(message).toContain('Slipway-Promotion-Forced: catalog over soaking: INC-7 verified by hand');
    },
    30 * MINUTES,
  );

  it(
    'after the soak time orders is promoted, without a rebuild',
    async () => {
      const verifiedAt = Date.parse(history('stage')[0]?.finishedAt as string);
      const soakMs = 45_000;
      await new Promise((r) => setTimeout(r, Math.max(0, verifiedAt + soakMs - Date.now() + 1000)));
      const run = await promote(['--soak=45s']);
      expect({ code: run.code, tail: run.code === 0 ? '' : explain(run) }).toEqual({ code: 0, tail: '' });
      expect(run.output).toMatch(/unchanged catalog: prod already runs it/);
      expect(run.output).not.toMatch(/\$ buildah .* bud /);
      expect(pinned('prod', 'orders')).toBe(pinned('stage', 'orders'));
      expect(await health('prod', 'orders')).toEqual(await health('stage', 'orders'));
    },
    30 * MINUTES,
  );

  it(
    'refuses a digest stage never verified (pinned by hand), naming project, digest and reason; nothing written',
    async () => {
      const file = path.join(repo, 'deploy/k8s/overlays/stage/kustomization.yaml');
      const forged = `sha256:${'e'.repeat(64)}`;
      writeFileSync(file, readFileSync(file, 'utf8').replace(pinned('stage', 'orders') as string, forged));
      git('commit', '-qam', 'chore(deploy): pin orders by hand');
      git('push', '-q', 'origin', 'main');
      const before = snapshot();
      const run = await promote();
      expect(run.code).not.toBe(0);
      expect(run.output).toContain(`orders ${forged}: never-verified: no stage release record deployed it`);
      expect(snapshot()).toEqual(before);
    },
    20 * MINUTES,
  );

  it(
    'bad input: unknown environment, promoting to itself, a bad duration, an unknown project; each clear, non-zero, nothing written',
    async () => {
      const before = snapshot();
      const cases: [string[], RegExp][] = [
        [['--promoteFrom=qa'], /unknown environment 'qa'/],
        [['--promoteFrom=prod'], /cannot promote prod to itself/],
        [['--promoteFrom=stage', '--soak=soon'], /--soak 'soon' is not a duration/],
        [['--promoteFrom=stage'], /project 'shop' can not be deployed/],
      ];
      for (const [extra, message] of cases) {
        const projects = message.source.includes('shop') ? ['shop'] : PROJECTS;
        const run = await nx([...envOptions('prod', projects), ...extra]);
        expect({ extra, code: run.code === 0 ? 0 : 1, matches: message.test(run.output) }).toEqual({
          extra,
          code: 1,
          matches: true,
        });
      }
      expect(snapshot()).toEqual(before);
    },
    20 * MINUTES,
  );
});
