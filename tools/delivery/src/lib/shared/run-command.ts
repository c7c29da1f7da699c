import { spawn } from 'node:child_process';
import { redact } from './redact';

export interface RunOptions {
  cwd?: string;
  /** Merged over process.env (a value of `undefined` removes the variable). */
  env?: Record<string, string | undefined>;
  input?: string;
  /** Kill the process (SIGKILL) after this many ms; the result then has `timedOut: true`. */
  timeoutMs?: number;
  /** Values removed from stdout/stderr and from error messages. */
  secrets?: readonly (string | undefined)[];
}

export interface RunResult {
  command: string;
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly result: RunResult,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/**
 * Run a program without a shell (arguments are never interpreted, so values such as tags can not
 * inject commands) and collect its output. Never rejects for a non-zero exit: callers decide.
 */
export function runCommand(program: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...(opts.env ?? {}) })) {
    if (v !== undefined) env[k] = v;
  }
  const command = redact([program, ...args].join(' '), opts.secrets);
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(program, [...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (error) {
      resolve({ command, code: 127, stdout: '', stderr: String(error), timedOut: false });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const timer =
      opts.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs)
        : undefined;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const finish = (code: number, extraErr = '') => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      resolve({
        command,
        code,
        stdout: redact(Buffer.concat(out).toString('utf8'), opts.secrets),
        stderr: redact(Buffer.concat(err).toString('utf8') + extraErr, opts.secrets),
        timedOut,
      });
    };
    child.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ENOENT' ? 127 : 1, `${e.message}\n`));
    child.on('close', (code, signal) => finish(code ?? (signal ? 128 + 9 : 1)));
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like runCommand, but rejects with a CommandError (stderr included, secrets redacted) on failure. */
export async function runCommandOrThrow(
  program: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const result = await runCommand(program, args, opts);
  if (result.code !== 0) {
    const why = result.timedOut ? `timed out after ${opts.timeoutMs} ms` : `exited with ${result.code}`;
    throw new CommandError(`${result.command} ${why}: ${result.stderr.trim() || result.stdout.trim()}`, result);
  }
  return result;
}
