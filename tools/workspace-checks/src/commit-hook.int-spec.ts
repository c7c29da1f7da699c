import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { cloneWorkspace, type TempClone } from './test-support/temp-clone';
import { run } from './test-support/workspace';

// The commit-msg hook as a developer meets it: `npm ci`/`npm install` runs the `prepare` script
// (husky), which points git at .husky/_; from then on a commit with a bad message is refused.
describe('commit-msg hook in a fresh clone', () => {
  let repo: TempClone;

  beforeAll(() => {
    repo = cloneWorkspace('commit-hook');
    // What `npm ci` runs after installing: the root package.json's prepare script.
    const prepare = run('npm', ['run', 'prepare', '--silent'], {
      cwd: repo.dir,
    });
    expect(prepare.code).toBe(0);
  });
  afterAll(() => repo?.cleanup());

  it('installs the hooks path', () => {
    expect(repo.git('config', 'core.hooksPath').stdout.trim()).toBe('.husky/_');
  });

  it('refuses a commit whose message is not a Conventional Commit and keeps HEAD', () => {
    writeFileSync(path.join(repo.dir, 'notes.txt'), 'one\n');
    repo.git('add', 'notes.txt');
    const commit = repo.git('commit', '-m', 'Updated some stuff');
    expect(commit.code).not.toBe(0);
    expect(commit.output).toContain('[type-empty]');
    expect(repo.git('rev-parse', 'HEAD').stdout.trim()).toBe(repo.baseSha);
  });

  it('accepts a Conventional Commit', () => {
    const commit = repo.git('commit', '-m', 'docs: add notes');
    expect(commit.output).not.toContain('✖');
    expect(commit.code).toBe(0);
    expect(repo.git('log', '-1', '--format=%s').stdout.trim()).toBe('docs: add notes');
  });

  it('does not fail `prepare` where there is no .git (CI tarballs, Docker build contexts)', () => {
    const withoutGit = run(
      'bash',
      ['-c', 'mv .git .git-away && npm run prepare --silent; code=$?; mv .git-away .git; exit $code'],
      {
        cwd: repo.dir,
      },
    );
    expect(withoutGit.code).toBe(0);
  });
});
