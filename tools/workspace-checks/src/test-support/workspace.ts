import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The repository these checks run in (tools/workspace-checks/src/test-support -> root). */
export const workspaceRoot = path.resolve(__dirname, '../../../..');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs a command to completion (bounded by timeoutMs) and returns its exit code and output. */
export function run(
  command: string,
  args: string[],
  options: SpawnSyncOptions & { timeoutMs?: number } = {},
): RunResult {
  const { timeoutMs = 120_000, ...spawnOptions } = options;
  const result = spawnSync(command, args, {
    cwd: workspaceRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    ...spawnOptions,
  });
  if (result.error) throw result.error;
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');
  return { code: result.status, stdout, stderr, output: stdout + stderr };
}

/** A temporary directory removed by the returned cleanup function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), `slipway-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
