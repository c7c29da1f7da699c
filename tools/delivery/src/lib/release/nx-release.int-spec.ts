import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cloneWorkspace } from '../../testing/workspace-clone';

/**
 * `nx release` as configured in nx.json (independent versions of the `type:app` projects from
 * Conventional Commits, per-project CHANGELOG.md, `<project>@<version>` tags), for real: in a
 * temporary clone of this repository's committed HEAD with a bare remote, each step a commit and a
 * `nx release --skip-publish`, then a push of the release commit and its tags.
 */
const RELEASED = ['catalog', 'orders', 'web'];

describe('nx release: versions, changelogs and tags per deployable project', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'slipway-nx-release-'));
  const repo = path.join(tmp, 'repo');
  const remote = path.join(tmp, 'remote.git');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: path.join(tmp, 'nx-cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(tmp, 'nx-data'),
    FORCE_COLOR: '0',
    // No token: the config creates no GitHub release (the workflow asks for one); nothing here may reach GitHub.
    GITHUB_TOKEN: '',
    GH_TOKEN: '',
    HUSKY: '0',
  };
  delete env['NX_INVOCATION_ROOT_PID'];
  delete env['NX_BASE'];
  delete env['NX_HEAD'];

  const run = (cmd: string, args: string[]) => {
    const r = spawnSync(cmd, args, { cwd: repo, env, encoding: 'utf8', timeout: 10 * 60_000 });
    return { code: r.status ?? 1, output: `${r.stdout}${r.stderr}` };
  };
  const git = (...args: string[]) => {
    const r = run('git', args);
    if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.output}`);
    return r.output.trim();
  };
  const release = (...extra: string[]) => {
    const r = run(process.execPath, [
      path.join(repo, 'node_modules/nx/dist/bin/nx.js'),
      'release',
      '--skip-publish',
      ...extra,
    ]);
    if (r.code !== 0) throw new Error(`nx release ${extra.join(' ')} failed:\n${r.output.slice(-4000)}`);
    return r.output;
  };
  const version = (project: string) =>
    (JSON.parse(readFileSync(path.join(repo, 'apps', project, 'package.json'), 'utf8')) as { version: string }).version;
  const versions = () => Object.fromEntries(RELEASED.map((p) => [p, version(p)]));
  const changelog = (project: string) => readFileSync(path.join(repo, 'apps', project, 'CHANGELOG.md'), 'utf8');
  const remoteTags = () =>
    git('ls-remote', '--tags', '--refs', remote)
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('refs/tags/')[1]);
  const commitTouching = (file: string, message: string) => {
    writeFileSync(path.join(repo, file), `// ${message}\n`, { flag: 'a' });
    git('add', file);
    git('commit', '--quiet', '-m', message);
  };
  const releaseAndPush = (...extra: string[]) => {
    const output = release(...extra);
    git('push', '--quiet', '--follow-tags', 'origin', 'HEAD:main');
    return output;
  };

  beforeAll(() => {
    cloneWorkspace(repo);
    git('config', 'user.name', 'Slipway Release Test');
    git('config', 'user.email', 'release-test@slipway.invalid');
    git('config', 'commit.gpgsign', 'false');
    git('config', 'tag.gpgsign', 'false');
    git('init', '--quiet', '--bare', remote);
    git('remote', 'set-url', 'origin', remote);
    git('checkout', '--quiet', '-B', 'main');
    git('push', '--quiet', 'origin', 'main');
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('starts every deployable project at 1.0.0 (first release) and leaves the libraries unversioned', () => {
    const libs = ['libs/server/service-kit/package.json', 'libs/shared/contracts/package.json'].map(
      (file) => JSON.parse(readFileSync(path.join(repo, file), 'utf8')) as { version: string },
    );
    releaseAndPush('1.0.0', '--first-release');
    expect(versions()).toEqual({ catalog: '1.0.0', orders: '1.0.0', web: '1.0.0' });
    expect(remoteTags().sort()).toEqual(['catalog@1.0.0', 'orders@1.0.0', 'web@1.0.0']);
    expect(
      ['libs/server/service-kit/package.json', 'libs/shared/contracts/package.json'].map(
        (file) => (JSON.parse(readFileSync(path.join(repo, file), 'utf8')) as { version: string }).version,
      ),
    ).toEqual(libs.map((l) => l.version));
    expect(git('log', '-1', '--format=%s')).toMatch(/^chore\(release\): publish/);
  });

  it('fix(orders) bumps orders by a patch, and nothing else', () => {
    commitTouching('apps/orders/src/main.ts', 'fix(orders): round totals half-up');
    releaseAndPush();
    expect(versions()).toEqual({ catalog: '1.0.0', orders: '1.0.1', web: '1.0.0' });
    expect(changelog('orders')).toMatch(/## 1\.0\.1[\s\S]*Fixes[\s\S]*\*\*orders:\*\* round totals half-up/);
    expect(changelog('catalog')).not.toContain('round totals');
    expect(remoteTags()).toContain('orders@1.0.1');
    expect(git('tag', '--points-at', 'HEAD')).toBe('orders@1.0.1');
  });

  it('feat(catalog) bumps catalog by a minor', () => {
    commitTouching('apps/catalog/src/main.ts', 'feat(catalog): filter products by tag');
    releaseAndPush();
    expect(versions()).toEqual({ catalog: '1.1.0', orders: '1.0.1', web: '1.0.0' });
    expect(changelog('catalog')).toMatch(/## 1\.1\.0[\s\S]*Features[\s\S]*filter products by tag/);
  });

  it('a breaking change bumps a major', () => {
    commitTouching('apps/web/src/main.tsx', 'feat(web)!: drop the legacy order page');
    releaseAndPush();
    expect(versions()).toEqual({ catalog: '1.1.0', orders: '1.0.1', web: '2.0.0' });
    // A major release is a level-1 heading in nx's changelog renderer.
    expect(changelog('web')).toMatch(/^# 2\.0\.0[\s\S]*Breaking Changes[\s\S]*drop the legacy order page/);
  });

  it('a fix in a shared library releases every app that depends on it, as a version bump only', () => {
    // service-kit is not released itself. nx release attributes the commit to the projects whose files
    // it touches (none of the apps), then gives every released project that depends on a changed
    // project in the graph a patch bump (updateDependents), so catalog, orders and web, which all
    // import service-kit, each get a patch, a tag and a "version bump only" changelog entry.
    commitTouching('libs/server/service-kit/src/index.ts', 'fix(service-kit): close the pool on SIGTERM');
    releaseAndPush();
    expect(versions()).toEqual({ catalog: '1.1.1', orders: '1.0.2', web: '2.0.1' });
    expect(changelog('catalog')).toMatch(/^## 1\.1\.1 [^#]*version bump only/);
    expect(changelog('orders')).toMatch(/^## 1\.0\.2 [^#]*version bump only/);
    expect(changelog('web')).toMatch(/^## 2\.0\.1 [^#]*version bump only/);
    expect(git('tag', '--points-at', 'HEAD').split('\n').sort()).toEqual([
      'catalog@1.1.1',
      'orders@1.0.2',
      'web@2.0.1',
    ]);
  });

  it('a rerun with nothing new changes nothing: no commit, no tag, no changelog entry', () => {
    const head = git('rev-parse', 'HEAD');
    const tags = remoteTags().sort();
    const before = RELEASED.map(changelog);
    release();
    expect(git('rev-parse', 'HEAD')).toBe(head);
    expect(git('status', '--porcelain')).toBe('');
    git('push', '--quiet', '--follow-tags', 'origin', 'HEAD:main');
    expect(remoteTags().sort()).toEqual(tags);
    expect(RELEASED.map(changelog)).toEqual(before);
    expect(existsSync(path.join(repo, 'CHANGELOG.md'))).toBe(false);
  });
});
