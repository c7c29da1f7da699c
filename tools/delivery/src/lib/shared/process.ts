import { spawn } from 'node:child_process';
import { redact } from './redact';

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, then stdin is closed. */
  input?: string | Uint8Array;
  /** How stdout is decoded (default utf8); `latin1` keeps every byte as one character (Buffer.from(s, 'latin1')). */
  stdoutEncoding?: 'utf8' | 'latin1';
  /** Killed with SIGKILL after this many ms (default 10 minutes): no child runs unbounded. */
  timeoutMs?: number;
  /** Called with each chunk of stdout/stderr as it arrives (already redacted). */
  onOutput?: (chunk: string, stream: 'stdout' | 'stderr') => void;
  /** Values that must never appear in captured or streamed output. */
  secrets?: readonly string[];
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** `runProcess`'s signature: adapters take one so tests can swap the processes they run. */
export type ProcessRunner = (program: string, args: readonly string[], options: RunOptions) => Promise<RunResult>;

/**
 * Run a program without a shell (arguments are never re-parsed), capturing its output.
 * Resolves with the exit code; rejects only when the program cannot be started (e.g. ENOENT).
 */
export function runProcess(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const { cwd, env, input, timeoutMs = 600_000, onOutput, secrets = [], stdoutEncoding = 'utf8' } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args], { cwd, env: env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.setEncoding(stdoutEncoding);
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const clean = redact(chunk, secrets);
      stdout += clean;
      onOutput?.(clean, 'stdout');
    });
    child.stderr.on('data', (chunk: string) => {
      const clean = redact(chunk, secrets);
      stderr += clean;
      onOutput?.(clean, 'stderr');
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut });
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading its input
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/** Whether `program` can be executed (found on PATH and answers `args`, e.g. `--version`). */
export async function canRun(
  program: string,
  args: readonly string[] = ['--version'],
  timeoutMs = 15_000,
): Promise<boolean> {
  try {
    const result = await runProcess(program, args, { timeoutMs });
    return result.code === 0;
  } catch {
    return false;
  }
}
