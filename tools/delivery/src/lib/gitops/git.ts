import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeFileBytes, encodeFileText } from '../manifests/file-bytes';
import { runProcess, type RunResult } from '../shared/process';
import { redactCredentials } from '../shared/redact';

/**
 * The git adapter: every git call the GitOps writer makes, through the git CLI without a shell.
 * Commits are built with plumbing (blobs, a temporary index, commit-tree) so a bump never touches
 * other files of the working tree or the user's index, never runs hooks, and can be rebuilt on any
 * fetched head. Credentials come from an environment variable through GIT_ASKPASS, never on the
 * command line, and every output is redacted.
 */
export interface GitAuth {
  /** Token for http(s) remotes (value, not the variable name). */
  token?: string;
  /** User name sent with the token; GitHub accepts `x-access-token`. */
  username?: string;
}

export type PushOutcomeKind = 'ok' | 'rejected' | 'auth' | 'declined' | 'unreachable' | 'other';

export interface PushOutcome {
  kind: PushOutcomeKind;
  detail: string;
}

export interface FileAtCommit {
  path: string;
  content: string;
}

export class GitError extends Error {
  constructor(
    message: string,
    readonly result?: RunResult,
  ) {
    super(message);
    this.name = 'GitError';
  }
}

const GIT_TIMEOUT_MS = 120_000;

export class GitCli {
  private askpassPath: string | undefined;

  constructor(
    readonly dir: string,
    private readonly auth: GitAuth = {},
  ) {}

  private secrets(): string[] {
    return this.auth.token ? [this.auth.token] : [];
  }

  /** Run git; never rejects for a non-zero exit (callers classify), output redacted. */
  async run(
    args: string[],
    opts: {
      input?: string | Uint8Array;
      env?: Record<string, string>;
      network?: boolean;
      stdoutEncoding?: 'utf8' | 'latin1';
    } = {},
  ): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // Messages are parsed: keep them in English. Never wait for a password on a terminal.
      LC_ALL: 'C',
      LANG: 'C',
      GIT_TERMINAL_PROMPT: '0',
      ...(opts.env ?? {}),
    };
    const pre: string[] = [];
    if (opts.network && this.auth.token) {
      env.GIT_ASKPASS = await this.askpass();
      env.SLIPWAY_GIT_USERNAME = this.auth.username ?? 'x-access-token';
      env.SLIPWAY_GIT_PASSWORD = this.auth.token;
      // The token is authoritative: other credential helpers must not answer first.
      pre.push('-c', 'credential.helper=');
    }
    try {
      const result = await runProcess('git', [...pre, ...args], {
        cwd: this.dir,
        env,
        input: opts.input,
        stdoutEncoding: opts.stdoutEncoding,
        timeoutMs: GIT_TIMEOUT_MS,
        secrets: this.secrets(),
      });
      return {
        ...result,
        stdout: redactCredentials(result.stdout, this.secrets()),
        stderr: redactCredentials(result.stderr, this.secrets()),
      };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new GitError(code === 'ENOENT' ? 'git is not installed (not found on PATH)' : String(error));
    }
  }

  async runOk(
    args: string[],
    opts: { input?: string | Uint8Array; env?: Record<string, string>; network?: boolean } = {},
  ): Promise<string> {
    const r = await this.run(args, opts);
    if (r.code !== 0) {
      throw new GitError(
        `git ${redactCredentials(args.join(' '), this.secrets())} failed: ${(r.stderr || r.stdout).trim()}`,
        r,
      );
    }
    return r.stdout;
  }

  /** A tiny askpass program that answers git's prompts from the environment (the token is never in a file). */
  private async askpass(): Promise<string> {
    if (this.askpassPath) return this.askpassPath;
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-askpass-'));
    const file = path.join(dir, 'askpass.sh');
    await fs.writeFile(
      file,
      '#!/bin/sh\ncase "$1" in\n  Username*) printf \'%s\\n\' "$SLIPWAY_GIT_USERNAME" ;;\n  *) printf \'%s\\n\' "$SLIPWAY_GIT_PASSWORD" ;;\nesac\n',
      { mode: 0o700 },
    );
    this.askpassPath = file;
    return file;
  }

  async dispose(): Promise<void> {
    if (this.askpassPath) await fs.rm(path.dirname(this.askpassPath), { recursive: true, force: true });
    this.askpassPath = undefined;
  }

  async isRepository(): Promise<boolean> {
    const r = await this.run(['rev-parse', '--is-inside-work-tree']);
    return r.code === 0 && r.stdout.trim() === 'true';
  }

  async isBareRepository(): Promise<boolean> {
    const r = await this.run(['rev-parse', '--is-bare-repository']);
    return r.code === 0 && r.stdout.trim() === 'true';
  }

  async gitDir(): Promise<string> {
    return (await this.runOk(['rev-parse', '--absolute-git-dir'])).trim();
  }

  async topLevel(): Promise<string> {
    return (await this.runOk(['rev-parse', '--show-toplevel'])).trim();
  }

  /** The checked-out branch, or null when HEAD is detached. */
  async currentBranch(): Promise<string | null> {
    const r = await this.run(['symbolic-ref', '-q', '--short', 'HEAD']);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  async revParse(ref: string): Promise<string | null> {
    const r = await this.run(['rev-parse', '--verify', '-q', `${ref}^{commit}`]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /**
   * The content of `file` (repo-relative, '/' separated) at `commit`, or undefined if absent.
   * Decoded losslessly (file-bytes.ts): bytes that are not UTF-8 round-trip through a commit.
   */
  async readFile(commit: string, file: string): Promise<string | undefined> {
    const r = await this.run(['cat-file', 'blob', `${commit}:${file}`], { stdoutEncoding: 'latin1' });
    return r.code === 0 ? decodeFileBytes(Buffer.from(r.stdout, 'latin1')) : undefined;
  }

  async fileMode(commit: string, file: string): Promise<string> {
    const out = (await this.runOk(['ls-tree', commit, '--', file])).trim();
    return out.split(/\s+/)[0] || '100644';
  }

  /** Paths among `files` with uncommitted changes (staged or not) relative to HEAD. */
  async dirtyPaths(files: string[]): Promise<string[]> {
    const out = await this.runOk(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--', ...files]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((entry) => entry.slice(3));
  }

  async hashObject(content: string): Promise<string> {
    return (await this.runOk(['hash-object', '-w', '--stdin'], { input: encodeFileText(content) })).trim();
  }

  /**
   * Build a commit on `parent` whose tree is the parent's with `files` replaced, using a temporary
   * index: the working tree and the user's index are not touched, and no hook runs.
   */
  async createCommit(opts: {
    parent: string;
    files: FileAtCommit[];
    message: string;
    author?: { name: string; email: string };
  }): Promise<{ commit: string; blobs: { path: string; sha: string; mode: string }[] }> {
    const gitDir = await this.gitDir();
    const indexFile = path.join(gitDir, `slipway-index-${process.pid}-${randomBytes(4).toString('hex')}`);
    const env = { GIT_INDEX_FILE: indexFile };
    try {
      await this.runOk(['read-tree', opts.parent], { env });
      const blobs: { path: string; sha: string; mode: string }[] = [];
      for (const f of opts.files) {
        const sha = await this.hashObject(f.content);
        const mode = await this.fileMode(opts.parent, f.path);
        blobs.push({ path: f.path, sha, mode });
        await this.runOk(['update-index', '--add', '--cacheinfo', `${mode},${sha},${f.path}`], { env });
      }
      const tree = (await this.runOk(['write-tree'], { env })).trim();
      const identity = await this.identityEnv(opts.author);
      const commit = (
        await this.runOk(['commit-tree', tree, '-p', opts.parent, '-F', '-'], { input: opts.message, env: identity })
      ).trim();
      return { commit, blobs };
    } finally {
      await fs.rm(indexFile, { force: true });
      await fs.rm(`${indexFile}.lock`, { force: true });
    }
  }

  /** Author/committer from the caller, else git's config, else a bot identity (CI often has none). */
  private async identityEnv(author?: { name: string; email: string }): Promise<Record<string, string>> {
    if (author) {
      return {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_COMMITTER_NAME: author.name,
        GIT_COMMITTER_EMAIL: author.email,
      };
    }
    const r = await this.run(['var', 'GIT_COMMITTER_IDENT']);
    if (r.code === 0 && !/^\s*<>/.test(r.stdout)) return {};
    return {
      GIT_AUTHOR_NAME: 'Slipway Bot',
      GIT_AUTHOR_EMAIL: 'slipway-bot@users.noreply.localhost',
      GIT_COMMITTER_NAME: 'Slipway Bot',
      GIT_COMMITTER_EMAIL: 'slipway-bot@users.noreply.localhost',
    };
  }

  /** Move `ref` from `oldSha` to `newSha` atomically (fails if it moved meanwhile). */
  async updateRef(ref: string, newSha: string, oldSha: string, reason: string): Promise<void> {
    await this.runOk(['update-ref', '-m', reason, ref, newSha, oldSha]);
  }

  /**
   * Point the user's index entries for `blobs` at the committed blobs (the files are clean
   * afterwards), in one `update-index --index-info` call so the index is written once.
   */
  async updateIndexEntries(blobs: { path: string; sha: string; mode: string }[]): Promise<void> {
    const input = blobs.map((b) => `${b.mode} ${b.sha}\t${b.path}\n`).join('');
    await this.runOk(['update-index', '--index-info'], { input });
  }

  /** Mode and blob of each path at `commit` (for restoring index entries). */
  async blobsAt(commit: string, paths: string[]): Promise<{ path: string; sha: string; mode: string }[]> {
    const out = await this.runOk(['ls-tree', '-z', commit, '--', ...paths]);
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const [info, file] = line.split('\t');
        const [mode, , sha] = info.split(' ');
        return { path: file, sha, mode };
      });
  }

  async remoteUrl(name: string): Promise<string | null> {
    const r = await this.run(['remote', 'get-url', name]);
    return r.code === 0 ? r.stdout.trim() : null;
  }

  /** Fetch `branch` from `remote` (name or URL); returns the fetched head. */
  async fetchBranch(remote: string, branch: string, opts: { depth?: number } = {}): Promise<string> {
    const args = [
      'fetch',
      '--no-tags',
      '--quiet',
      ...(opts.depth ? [`--depth=${opts.depth}`] : []),
      remote,
      `refs/heads/${branch}`,
    ];
    const r = await this.run(args, { network: true });
    if (r.code !== 0) {
      throw new GitError(`git fetch ${redactCredentials(remote)} ${branch} failed: ${r.stderr.trim()}`, r);
    }
    return (await this.runOk(['rev-parse', 'FETCH_HEAD'])).trim();
  }

  /** Push a commit to `refs/heads/<branch>` of `remote` and classify the answer. */
  async push(remote: string, commit: string, branch: string): Promise<PushOutcome> {
    const r = await this.run(['push', '--porcelain', remote, `${commit}:refs/heads/${branch}`], { network: true });
    return classifyPush(r);
  }

  async mergeFastForward(commit: string): Promise<boolean> {
    const r = await this.run(['merge', '--ff-only', '--quiet', commit]);
    return r.code === 0;
  }
}

/** Turn git push's exit status and porcelain output into a decision: retry, fail, or done. */
export function classifyPush(r: Pick<RunResult, 'code' | 'stdout' | 'stderr'>): PushOutcome {
  const text = `${r.stdout}\n${r.stderr}`;
  const detail = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && l !== 'Done' && !l.startsWith('To '))
    .join('; ');
  if (r.code === 0) return { kind: 'ok', detail };
  if (/\[rejected\][^\n]*\((fetch first|non-fast-forward|stale info)\)/.test(text)) return { kind: 'rejected', detail };
  if (/(cannot lock ref|failed to update ref|failed to lock|unable to lock|incorrect old value)/i.test(text)) {
    return { kind: 'rejected', detail };
  }
  if (
    /(Authentication failed|could not read Username|could not read Password|terminal prompts disabled|HTTP (401|403)|returned error: (401|403)|401 Unauthorized|403 Forbidden|Permission denied \(publickey)/i.test(
      text,
    )
  ) {
    return { kind: 'auth', detail };
  }
  if (/\[remote rejected\]/.test(text)) return { kind: 'declined', detail };
  if (
    /(Could not resolve host|Connection refused|Connection timed out|Could not read from remote|unable to access)/i.test(
      text,
    )
  ) {
    return { kind: 'unreachable', detail };
  }
  return { kind: 'other', detail };
}
