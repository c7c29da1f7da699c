import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { childEnvironment } from '../../lib/release/images';
import { cloneWorkspace, freePorts } from '../../testing/workspace-clone';

/**
 * The service generator end to end, in a temporary clone of this repository on its own ports
 * (3700-3799), registry and pod names: generate a PostgreSQL + Redis service, then, untouched, its
 * lint, typecheck, test, build and integration targets, `nx sync:check`, `deploy:validate`, and a
 * real `deploy:local` that builds its image and deploys and smoke-tests it beside the samples.
 * Then remove-service takes the workspace back to the commit before the generator, byte for byte.
 */
const MINUTES = 60_000;
const INSTANCE = `slipway-gen-${process.pid.toString(16)}`;

interface Run {
  code: number;
  output: string;
}

describe('service and remove-service generators in a temporary clone', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-generator-e2e-'));
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
    HUSKY: '0',
  });
  delete env['NX_BASE'];
  delete env['NX_HEAD'];
  delete env['NX_INVOCATION_ROOT_PID'];
  delete env['SLIPWAY_WEBHOOK_URL'];
  const background: ChildProcess[] = [];
  const ports = { registry: 0, catalog: 0, orders: 0, web: 0, inventory: 0 };
  let baseCommit = '';

  const run = (command: string, args: string[], timeoutMs = 30 * MINUTES): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(command, args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
  // Only run and run-many take --outputStyle; generators and other commands refuse unknown options.
  const nx = (...args: string[]) =>
    run(process.execPath, [
      path.join(repo, 'node_modules/nx/dist/bin/nx.js'),
      ...args,
      ...(['run', 'run-many'].includes(args[0]) ? ['--outputStyle=static'] : []),
    ]);
  const git = (...args: string[]) => spawnSync('git', args, { cwd: repo, env, encoding: 'utf8' }).stdout.trim();
  const ok = (step: string, result: Run) =>
    expect({ step, code: result.code, tail: result.code === 0 ? '' : result.output.slice(-5000) }).toEqual({
      step,
      code: 0,
      tail: '',
    });

  beforeAll(async () => {
    const [registry, catalog, orders, web, inventory] = await freePorts(5, 3700);
    Object.assign(ports, { registry, catalog, orders, web, inventory });
    cloneWorkspace(repo);
    // npm's own normal form of the lockfile first (a lockfile edited by other tools may differ by a
    // field or two), so the comparison after remove-service sees only what the generators changed.
    ok(
      'normalize lockfile',
      await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund']),
    );
    git('commit', '--quiet', '--no-verify', '--allow-empty', '-am', 'chore: npm lockfile normal form');
    baseCommit = git('rev-parse', 'HEAD');
  }, 10 * MINUTES);

  afterAll(() => {
    for (const child of background) if (child.exitCode === null) child.kill('SIGKILL');
    const podman = ['--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];
    const pods = spawnSync(
      'podman',
      [...podman, 'pod', 'ps', '--filter', `label=slipway.dev/instance=${INSTANCE}`, '--format', '{{.Name}}'],
      { encoding: 'utf8' },
    )
      .stdout.split('\n')
      .filter(Boolean);
    if (pods.length > 0) spawnSync('podman', [...podman, 'pod', 'rm', '--force', '--time', '5', ...pods]);
    spawnSync('bash', [path.join(repo, 'tools/scripts/local-prereqs.sh'), '--stop'], {
      cwd: repo,
      env: { ...env, SLIPWAY_REGISTRY_ADDR: `127.0.0.1:${ports.registry}` },
    });
    rmSync(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 500 });
  }, 5 * MINUTES);

  it(
    'a generated service passes its own targets, validate and a real deploy:local, untouched',
    async () => {
      ok(
        'generate',
        await nx(
          'g',
          '@slipway/delivery:service',
          'inventory',
          '--database=postgres',
          '--redis',
          '--skipInstall',
          '--no-interactive',
        ),
      );
      // What `npm install` (the generator's install task) records: the new workspace package in the lockfile.
      ok('lockfile', await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund']));
      git('add', '-A');
      git('commit', '--quiet', '--no-verify', '-m', 'feat(inventory): generated service');
      ok('sync:check', await nx('sync:check'));
      ok('targets', await nx('run-many', '-t', 'lint', 'typecheck', 'test', 'build', 'integration', '-p', 'inventory'));
      const validate = await nx('run', 'deploy:validate', '--skip-nx-cache');
      ok('deploy:validate', validate);
      expect(validate.output).toMatch(/✓ staging .*0 violations/);

      const deploy = await nx(
        'run',
        'deploy:local',
        `--registry=127.0.0.1:${ports.registry}`,
        `--ports=catalog=${ports.catalog},orders=${ports.orders},web=${ports.web},inventory=${ports.inventory}`,
        `--instance=${INSTANCE}`,
        '--smokeK6=false',
        '--smokePlaywright=false',
        '--smokeReadinessTimeoutMs=180000',
        '--imageParallel=1',
      );
      ok('deploy:local', deploy);
      expect(deploy.output).toMatch(/^inventory +h-0{12} +h-[0-9a-f]{12} +built +verified +pass /m);
      const health = (await (await fetch(`http://127.0.0.1:${ports.inventory}/health`)).json()) as { service: string };
      expect(health.service).toBe('inventory');
      const items = (await (await fetch(`http://127.0.0.1:${ports.inventory}/items?limit=2`)).json()) as {
        items: unknown[];
      };
      expect(items.items).toHaveLength(2);
      const record = JSON.parse(readFileSync(path.join(repo, 'dist/images/inventory.json'), 'utf8')) as {
        digest: string;
      };
      expect(record.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    },
    45 * MINUTES,
  );

  it(
    'remove-service takes the workspace back to before the generator, and validate passes',
    async () => {
      ok('remove', await nx('g', '@slipway/delivery:remove-service', 'inventory', '--skipInstall', '--no-interactive'));
      ok('lockfile', await run('npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund']));
      expect(git('status', '--porcelain', '--untracked-files=no')).not.toBe('');
      // Every tracked file is as it was before the service was generated.
      expect(git('diff', '--stat', baseCommit, '--', '.')).toBe('');
      ok('deploy:validate', await nx('run', 'deploy:validate', '--skip-nx-cache'));
      const projects = await nx('show', 'projects');
      expect(projects.output).not.toMatch(/^inventory$/m);
    },
    15 * MINUTES,
  );
});
