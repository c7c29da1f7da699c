import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyBump, type ApplyBumpOptions, type ApplyBumpResult, type BumpGitOptions } from '../gitops/apply-bump';
import { commitFiles, type CommitFilesResult, type ReadAtHead } from '../gitops/commit-files';
import { GitCli, type FileAtCommit } from '../gitops/git';
import { DeliveryInputError } from '../shared/errors';
import { FileReleaseLock, GitRefReleaseLock, type LockHolder, type LockTiming, type ReleaseLock } from './lock';

/**
 * Where an environment's GitOps state lives and the only ways a release touches it: read files at
 * the branch head, bump images (applyBump), commit other files (records, holds), take the lock.
 *  - WorkingCopyRepository: a clone with a remote (this repository and `origin` for staging and
 *    production; the private clone under .local/ for the local environment).
 *  - UrlRepository: another repository by URL; nothing is checked out, heads are fetched.
 */
export type BumpRequest = Omit<ApplyBumpOptions, 'workspaceRoot' | 'git'>;

export interface GitOpsRepository {
  describe(): string;
  /** Re-read the branch head (after others pushed, or after our own commit). */
  refresh(): Promise<void>;
  read(file: string): Promise<string | undefined>;
  readAt(commit: string, file: string): Promise<string | undefined>;
  /** The commit `refresh` saw. */
  head(): string | undefined;
  /** A directory holding the files at the head (podman and kubectl render from it); undefined if none. */
  checkout(): string | undefined;
  bump(request: BumpRequest): Promise<ApplyBumpResult>;
  commit(message: string, edit: (read: ReadAtHead) => Promise<FileAtCommit[]>): Promise<CommitFilesResult>;
  lock(holder: LockHolder, timing: LockTiming & { ref: string; stateDir: string }): ReleaseLock;
}

export interface RepositoryGitOptions extends BumpGitOptions {
  remote: string;
}

/** Both repositories bump and commit the same way, then re-read what they now hold. */
async function bumpThenRefresh(
  repo: { refresh(): Promise<void> },
  workspaceRoot: string,
  git: RepositoryGitOptions,
  request: BumpRequest,
): Promise<ApplyBumpResult> {
  const result = await applyBump({ ...request, workspaceRoot, git });
  await repo.refresh();
  return result;
}

async function commitThenRefresh(
  repo: { refresh(): Promise<void> },
  options: Parameters<typeof commitFiles>[0],
): Promise<CommitFilesResult> {
  const result = await commitFiles(options);
  await repo.refresh();
  return result;
}

export class WorkingCopyRepository implements GitOpsRepository {
  private headCommit: string | undefined;
  private readonly git: GitCli;

  constructor(
    readonly root: string,
    private readonly gitOptions: RepositoryGitOptions,
    private readonly lockKind: 'file' | 'ref',
    private readonly log: (line: string) => void = () => undefined,
  ) {
    this.git = new GitCli(root, {
      token: gitOptions.token,
      username: gitOptions.tokenUser,
    });
  }

  describe(): string {
    return `${this.root} (${this.gitOptions.remote}${this.gitOptions.branch ? ` ${this.gitOptions.branch}` : ''})`;
  }

  async refresh(): Promise<void> {
    if (!(await this.git.isRepository())) {
      throw new DeliveryInputError(
        `${this.root} is not a git working copy`,
        'run the release from a clone of the GitOps repository',
      );
    }
    const branch = this.gitOptions.branch ?? (await this.git.currentBranch());
    if (!branch)
      throw new DeliveryInputError(
        `HEAD is detached in ${this.root}`,
        'check out the GitOps branch (e.g. git switch main) or pass --branch',
      );
    if (this.gitOptions.push === false) {
      this.headCommit = (await this.git.revParse('HEAD')) ?? undefined;
      return;
    }
    // The remote's head is the truth (CI checkouts lag behind); fall back to HEAD when it is not there yet.
    try {
      this.headCommit = await this.git.fetchBranch(this.gitOptions.remote, branch);
    } catch (error) {
      const local = await this.git.revParse('HEAD');
      if (!local) throw error;
      this.log(
        `could not fetch ${this.gitOptions.remote} ${branch} (${(error as Error).message.split('\n')[0]}); reading the local HEAD`,
      );
      this.headCommit = local;
    }
  }

  head(): string | undefined {
    return this.headCommit;
  }

  async read(file: string): Promise<string | undefined> {
    if (!this.headCommit) await this.refresh();
    return this.git.readFile(this.headCommit as string, file);
  }

  readAt(commit: string, file: string): Promise<string | undefined> {
    return this.git.readFile(commit, file);
  }

  checkout(): string {
    return this.root;
  }

  async bump(request: BumpRequest): Promise<ApplyBumpResult> {
    return bumpThenRefresh(this, this.root, this.gitOptions, request);
  }

  async commit(message: string, edit: (read: ReadAtHead) => Promise<FileAtCommit[]>): Promise<CommitFilesResult> {
    return commitThenRefresh(this, { workspaceRoot: this.root, git: this.gitOptions, message, edit, log: this.log });
  }

  lock(holder: LockHolder, timing: LockTiming & { ref: string; stateDir: string }): ReleaseLock {
    if (this.lockKind === 'file')
      return new FileReleaseLock(path.join(timing.stateDir, 'locks', `${holder.environment}.lock`), holder, timing);
    return new GitRefReleaseLock(this.root, this.gitOptions.remote, timing.ref, holder, timing, {
      token: this.gitOptions.token,
      username: this.gitOptions.tokenUser,
    });
  }
}

export class UrlRepository implements GitOpsRepository {
  private headCommit: string | undefined;
  private dir: string | undefined;
  private git: GitCli | undefined;

  constructor(
    private readonly gitOptions: RepositoryGitOptions,
    private readonly scratchRepository: string,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  describe(): string {
    return `${this.gitOptions.remote} (${this.gitOptions.branch ?? 'main'})`;
  }

  private async cli(): Promise<GitCli> {
    if (this.git) return this.git;
    this.dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-gitops-read-'));
    this.git = new GitCli(this.dir, {
      token: this.gitOptions.token,
      username: this.gitOptions.tokenUser,
    });
    await this.git.runOk(['init', '--bare', '--quiet']);
    return this.git;
  }

  async refresh(): Promise<void> {
    const git = await this.cli();
    this.headCommit = await git.fetchBranch(this.gitOptions.remote, this.gitOptions.branch ?? 'main');
  }

  head(): string | undefined {
    return this.headCommit;
  }

  async read(file: string): Promise<string | undefined> {
    if (!this.headCommit) await this.refresh();
    return (await this.cli()).readFile(this.headCommit as string, file);
  }

  async readAt(commit: string, file: string): Promise<string | undefined> {
    const git = await this.cli();
    let content = await git.readFile(commit, file);
    if (content === undefined && !(await git.revParse(commit))) {
      // Older commits are not in the shallow fetch: get the full branch history once.
      await git.run(
        ['fetch', '--no-tags', '--quiet', this.gitOptions.remote, `refs/heads/${this.gitOptions.branch ?? 'main'}`],
        { network: true },
      );
      content = await git.readFile(commit, file);
    }
    return content;
  }

  checkout(): undefined {
    return undefined;
  }

  async bump(request: BumpRequest): Promise<ApplyBumpResult> {
    return bumpThenRefresh(this, this.scratchRepository, this.gitOptions, request);
  }

  async commit(message: string, edit: (read: ReadAtHead) => Promise<FileAtCommit[]>): Promise<CommitFilesResult> {
    return commitThenRefresh(this, {
      workspaceRoot: this.scratchRepository,
      git: this.gitOptions,
      message,
      edit,
      log: this.log,
    });
  }

  lock(holder: LockHolder, timing: LockTiming & { ref: string }): ReleaseLock {
    return new GitRefReleaseLock(this.scratchRepository, this.gitOptions.remote, timing.ref, holder, timing, {
      token: this.gitOptions.token,
      username: this.gitOptions.tokenUser,
    });
  }

  async dispose(): Promise<void> {
    await this.git?.dispose();
    if (this.dir) await fs.rm(this.dir, { recursive: true, force: true });
  }
}
