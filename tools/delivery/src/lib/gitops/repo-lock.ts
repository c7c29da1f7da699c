import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { isAlive } from '../manifests/atomic-write';
import { DeliveryInputError } from '../shared/errors';
import { sleep } from '../shared/retry';

/**
 * One bump at a time per working copy: an O_EXCL lock file in the git dir holding the owner's pid.
 * A lock whose owner is dead (kill -9) is taken over; a live one is waited for, bounded.
 */
export async function withRepositoryLock<T>(
  gitDir: string,
  fn: () => Promise<T>,
  opts: { timeoutMs?: number; pollMs?: number } = {},
): Promise<T> {
  const lockPath = path.join(gitDir, 'slipway-bump.lock');
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    try {
      const handle = await fs.open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await fs.readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (!isAlive(owner)) {
        // Stale: its owner died. Remove it only if it is still that owner's file.
        const again = Number((await fs.readFile(lockPath, 'utf8').catch(() => '')).trim());
        if (again === owner) await fs.rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new DeliveryInputError(
          `another bump (pid ${owner}) holds ${lockPath}`,
          'wait for it to finish, or remove the lock file if that process is gone',
        );
      }
      await sleep(opts.pollMs ?? 100);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lockPath, { force: true });
  }
}
