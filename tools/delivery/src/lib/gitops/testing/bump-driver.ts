import { sleep } from '../../shared/retry';
import { applyBump, type ApplyBumpOptions } from '../apply-bump';

/**
 * A bump in its own process, for the concurrency and kill -9 tests (bundled with esbuild by
 * testing/fixtures.ts). Reads ApplyBumpOptions as JSON from argv[2]; exit 0 on success, 1 on error.
 * With `criticalPauseMs` it prints CRITICAL when the write passes its commit point and pauses
 * there and before each rename, so a test can kill it inside the critical section on purpose.
 */

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2]) as ApplyBumpOptions & { criticalPauseMs?: number };
  const pause = options.criticalPauseMs;
  if (pause) {
    options.hooks = {
      afterCommitPoint: async () => {
        process.stdout.write('CRITICAL\n');
        await sleep(pause);
      },
      beforeRename: async () => {
        await sleep(pause / 3);
      },
    };
  }
  try {
    const result = await applyBump(options);
    process.stdout.write(
      `${JSON.stringify({ changed: result.changed, commit: result.commit, attempts: result.pushAttempts })}\n`,
    );
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}

void main();
