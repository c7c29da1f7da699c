import { randomInt } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cloneWorkspace, type TempClone } from './test-support/temp-clone';
import { run, workspaceRoot } from './test-support/workspace';

/**
 * tools/scripts/secret-scan.sh with the real gitleaks (built by setup.sh at its pinned version):
 * this repository scans clean, and a secret planted in a temporary clone is found, in the working
 * tree and in the history, with a non-zero exit and without printing the secret.
 */
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A GitHub personal access token shape, made at run time so no secret is ever committed here. */
function plantedToken(): string {
  let body = '';
  for (let i = 0; i < 36; i++) body += ALNUM[randomInt(ALNUM.length)];
  return `ghp_${body}`;
}

function scan(dir: string) {
  return run('bash', [path.join(workspaceRoot, 'tools/scripts/secret-scan.sh'), dir], { timeoutMs: 600_000 });
}

describe('secret scanning (gitleaks)', () => {
  it('this repository is clean: history and working tree', () => {
    const result = scan(workspaceRoot);
    expect({ code: result.code, output: result.code === 0 ? '' : result.output }).toEqual({ code: 0, output: '' });
    expect(result.stderr).toMatch(/secret-scan: history of .* \(\d+ commits\)/);
    expect(result.stderr).toMatch(/secret-scan: working tree of .* \(\d+ files\)/);
    expect(result.stderr).toContain('no secrets found');
  });

  describe('in a temporary clone', () => {
    let clone: TempClone;
    beforeEach(() => (clone = cloneWorkspace('secret-scan')));
    afterEach(() => clone.cleanup());

    it('finds a secret in an uncommitted file, exits non-zero and prints it redacted', () => {
      const token = plantedToken();
      mkdirSync(path.join(clone.dir, 'apps/catalog/src/config'), { recursive: true });
      writeFileSync(path.join(clone.dir, 'apps/catalog/src/config/upstream.ts'), `export const token = '${token}';\n`);
      const result = scan(clone.dir);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/github-pat/);
      expect(result.output).toContain('upstream.ts');
      expect(result.output).not.toContain(token);
      expect(result.stderr).toContain('secrets found');
    });

    it('finds a secret that was committed and deleted again (history)', () => {
      const token = plantedToken();
      const file = path.join(clone.dir, 'deploy/credentials.env');
      writeFileSync(file, `GITHUB_TOKEN=${token}\n`);
      expect(clone.git('add', '-A').code).toBe(0);
      expect(clone.git('commit', '-qm', 'chore: add credentials').code).toBe(0);
      rmSync(file);
      expect(clone.git('commit', '-qam', 'chore: remove credentials').code).toBe(0);
      const result = scan(clone.dir);
      expect(result.code).toBe(1);
      expect(result.output).toMatch(/credentials\.env/);
      expect(result.output).not.toContain(token);
    });

    it('ignored files (node_modules, dist, .local) are not part of the working-tree scan', () => {
      mkdirSync(path.join(clone.dir, '.local'), { recursive: true });
      writeFileSync(path.join(clone.dir, '.local/token'), `${plantedToken()}\n`);
      const result = scan(clone.dir);
      expect({ code: result.code, output: result.code === 0 ? '' : result.output }).toEqual({ code: 0, output: '' });
    });
  });
});
