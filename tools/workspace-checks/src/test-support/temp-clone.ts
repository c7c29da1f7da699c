import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { run, tempDir, workspaceRoot, type RunResult } from './workspace';

export interface TempClone {
  /** The clone's working tree. */
  dir: string;
  /** The commit the clone started from (the workspace's committed HEAD). */
  baseSha: string;
  git(...args: string[]): RunResult;
  /** `npx nx ...` in the clone with its own cache and daemon off. */
  nx(args: string[], timeoutMs?: number): RunResult;
  cleanup(): void;
}

/**
 * A clone of the workspace's committed HEAD in a temporary directory, sharing the workspace's
 * node_modules through a symlink (no install), with its own Nx cache and workspace data, so the
 * working tree others are editing is never touched.
 */
export function cloneWorkspace(prefix: string): TempClone {
  const tmp = tempDir(prefix);
  const dir = path.join(tmp.dir, 'repo');
  const cloned = run('git', ['clone', '--quiet', '--no-hardlinks', workspaceRoot, dir]);
  if (cloned.code !== 0) {
    tmp.cleanup();
    throw new Error(`git clone ${workspaceRoot} failed: ${cloned.output}`);
  }
  symlinkSync(path.join(workspaceRoot, 'node_modules'), path.join(dir, 'node_modules'));

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_CACHE_DIRECTORY: path.join(tmp.dir, 'nx-cache'),
    NX_WORKSPACE_DATA_DIRECTORY: path.join(tmp.dir, 'nx-workspace-data'),
    GIT_AUTHOR_NAME: 'Slipway Checks',
    GIT_AUTHOR_EMAIL: 'checks@slipway.invalid',
    GIT_COMMITTER_NAME: 'Slipway Checks',
    GIT_COMMITTER_EMAIL: 'checks@slipway.invalid',
  };
  // CI sets these for `nx affected` (nrwl/nx-set-shas); the tests pass --base/--head explicitly.
  delete env.NX_BASE;
  delete env.NX_HEAD;

  const git = (...args: string[]) => run('git', args, { cwd: dir, env });
  const baseSha = git('rev-parse', 'HEAD').stdout.trim();
  return {
    dir,
    baseSha,
    git,
    nx: (args, timeoutMs = 180_000) => run('npx', ['--no', '--', 'nx', ...args], { cwd: dir, env, timeoutMs }),
    cleanup: tmp.cleanup,
  };
}
