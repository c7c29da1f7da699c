import { readFileSync } from 'node:fs';
import path from 'node:path';
import { run, tempDir, workspaceRoot } from './test-support/workspace';

/** The real commitlint CLI with the workspace's commitlint.config.mjs, message on stdin. */
function commitlint(message: string) {
  return run('npx', ['--no', '--', 'commitlint'], {
    input: message,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

describe('commit message conventions (commitlint CLI)', () => {
  it.each([
    'feat(catalog): add product search',
    'fix: close the pool on shutdown',
    'ci: pin actions to commit SHAs',
    'feat(contracts): TypeBox schemas for products and orders',
    'feat(web-e2e)!: tag the order journey @smoke\n\nBREAKING CHANGE: the e2e project needs the stack running\n',
    `docs: explain the release flow\n\n${'a very long body line with a URL '.repeat(6)}\n`,
  ])('accepts %j', (message) => {
    const result = commitlint(message);
    expect(result.output).not.toContain('✖');
    expect(result.code).toBe(0);
  });

  it.each([
    ['no type', 'add product search', 'type-empty'],
    ['unknown type', 'feature: add product search', 'type-enum'],
    ['empty subject', 'feat(catalog): ', 'subject-empty'],
    ['full stop at the end', 'fix: close the pool.', 'subject-full-stop'],
    ['header over 100 characters', `feat: ${'x'.repeat(100)}`, 'header-max-length'],
    ['upper-case type', 'FEAT: add search', 'type-case'],
  ])('rejects a message with %s', (_label, message, rule) => {
    const result = commitlint(message);
    expect(result.code).toBe(1);
    expect(result.output).toContain(`[${rule}]`);
  });
});

describe('commit-msg hook', () => {
  it('runs commitlint on the message file git passes it', () => {
    expect(readFileSync(path.join(workspaceRoot, '.husky', 'commit-msg'), 'utf8').trim()).toBe(
      'npx --no -- commitlint --edit "$1"',
    );
    const { dir, cleanup } = tempDir('commit-msg');
    try {
      const bad = path.join(dir, 'BAD_MSG');
      const good = path.join(dir, 'GOOD_MSG');
      require('node:fs').writeFileSync(bad, 'wip\n');
      require('node:fs').writeFileSync(good, 'test(workspace-checks): cover the hook\n');
      expect(run('sh', ['.husky/commit-msg', bad]).code).toBe(1);
      expect(run('sh', ['.husky/commit-msg', good]).code).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('is installed by the prepare script without failing where husky or .git is missing', () => {
    const pkg = JSON.parse(readFileSync(path.join(workspaceRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBe('husky || true');
  });
});
