import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import type { BumpGitOptions } from './apply-bump';
import { GitCli, type FileAtCommit, type PushOutcome } from './git';
import { withRepositoryLock } from './repo-lock';
import { pushRetryPolicy, retryWithJitter } from '../shared/retry';

/**
 * Commit a few files that are not image references (release history records, hold files) to the
 * GitOps branch, with the same guarantees as the bump: built with plumbing on the branch head (no
 * hook, no other file of the working tree touched), pushed with fetch + re-apply + jittered
 * backoff on a rejected push, token never printed. `edit` computes the files from the
 * repository as it is at a head, so after a rejection it runs again on the new remote head
 * (appending a history line to whatever others appended meanwhile).
 */
export type ReadAtHead = (file: string) => Promise<string | undefined>;

export interface CommitFilesOptions {
  /** The GitOps working copy (used when `git.remote` is a remote name). */
  workspaceRoot: string;
  git?: BumpGitOptions;
  message: string;
  /** The files to write, given the content at a head; return [] (or unchanged contents) for nothing to commit. */
  edit: (read: ReadAtHead) => Promise<FileAtCommit[]>;
  log?: (line: string) => void;
  random?: () => number;
}

export interface CommitFilesResult {
  commit?: string;
  pushed: boolean;
  pushAttempts: number;
  /** Whether the working copy's branch and files now include the commit. */
  localUpdated: boolean;
  notes: string[];
}

function isUrlRemote(remote: string): boolean {
  return remote.includes('://') || /^[^/\s]+@[^/\s]+:/.test(remote) || path.isAbsolute(remote);
}

async function changedFiles(git: GitCli, head: string, opts: CommitFilesOptions): Promise<FileAtCommit[]> {
  const files = await opts.edit((file) => git.readFile(head, file));
  const changed: FileAtCommit[] = [];
  for (const f of files) if ((await git.readFile(head, f.path)) !== f.content) changed.push(f);
  return changed;
}

function pushFailure(outcome: PushOutcome, remote: string, branch: string, attempts: number): DeliveryInputError {
  if (outcome.kind === 'auth') {
    return new DeliveryInputError(
      `push to ${remote} (${branch}) was refused for authentication: ${outcome.detail}`,
      'set the GitOps token variable (default GITOPS_TOKEN) to a token that may push to this repository',
    );
  }
  if (outcome.kind === 'rejected') {
    return new DeliveryInputError(
      `push to ${remote} (${branch}) was still rejected after ${attempts} attempts: ${outcome.detail}`,
      'run again',
    );
  }
  return new DeliveryInputError(
    `push to ${remote} (${branch}) failed (${outcome.kind}): ${outcome.detail}`,
    'check the remote URL, the branch protection and the network, then run again',
  );
}

/** Commit on `head`, push, and on a rejected push re-run `edit` on the fetched remote head; bounded. */
async function commitAndPush(
  git: GitCli,
  opts: CommitFilesOptions,
  head: string,
  remote: string,
  branch: string,
  push: boolean,
  fetchDepth: number | undefined,
): Promise<CommitFilesResult> {
  const result: CommitFilesResult = {
    pushed: false,
    pushAttempts: 0,
    localUpdated: false,
    notes: [],
  };
  let files = await changedFiles(git, head, opts);
  if (files.length === 0) return result;
  let commit = (
    await git.createCommit({
      parent: head,
      files,
      message: opts.message,
      author: opts.git?.author,
    })
  ).commit;
  result.commit = commit;
  if (!push) return result;
  return retryWithJitter<CommitFilesResult>(
    pushRetryPolicy(opts.git, opts.random),
    async (attempt) => {
      if (attempt > 1) {
        const remoteHead = await git.fetchBranch(remote, branch, {
          depth: fetchDepth,
        });
        files = await changedFiles(git, remoteHead, opts);
        if (files.length === 0) {
          result.notes.push(`${remote}/${branch} already has these changes; nothing pushed`);
          result.commit = undefined;
          return { done: true, value: result };
        }
        commit = (
          await git.createCommit({
            parent: remoteHead,
            files,
            message: opts.message,
            author: opts.git?.author,
          })
        ).commit;
      }
      const outcome = await git.push(remote, commit, branch);
      result.pushAttempts = attempt;
      if (outcome.kind === 'ok') {
        result.pushed = true;
        result.commit = commit;
        return { done: true, value: result };
      }
      return {
        done: false,
        retryable: outcome.kind === 'rejected' || outcome.kind === 'unreachable',
        reason: outcome.kind,
        error: (attempts) => pushFailure(outcome, remote, branch, attempts),
      };
    },
    ({ delayMs, reason }) =>
      opts.log?.(
        `push to ${remote} ${branch} rejected (${reason}); fetching and re-applying on the new head in ${delayMs} ms`,
      ),
  );
}

export async function commitFiles(opts: CommitFilesOptions): Promise<CommitFilesResult> {
  const gitOpts = opts.git ?? {};
  const remote = gitOpts.remote ?? 'origin';
  const push = gitOpts.push !== false;
  if (push && isUrlRemote(remote)) {
    const branch = gitOpts.branch ?? 'main';
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-gitops-files-'));
    const git = new GitCli(dir, {
      token: gitOpts.token,
      username: gitOpts.tokenUser,
    });
    try {
      await git.runOk(['init', '--bare', '--quiet']);
      const head = await git.fetchBranch(remote, branch, { depth: 1 });
      return await commitAndPush(git, opts, head, remote, branch, true, 1);
    } finally {
      await git.dispose();
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  const root = path.resolve(opts.workspaceRoot);
  const git = new GitCli(root, {
    token: gitOpts.token,
    username: gitOpts.tokenUser,
  });
  try {
    if (!(await git.isRepository())) {
      throw new DeliveryInputError(
        `${root} is not a git repository (work tree)`,
        'run inside the GitOps repository clone',
      );
    }
    const branch = await git.currentBranch();
    if (branch === null)
      throw new DeliveryInputError(
        `HEAD is detached in ${root}; records are committed on a branch`,
        'check out the GitOps branch (e.g. git switch main)',
      );
    const remoteBranch = gitOpts.branch ?? branch;
    if (push && (await git.remoteUrl(remote)) === null) {
      throw new DeliveryInputError(
        `git remote '${remote}' does not exist in ${root}`,
        `add it (git remote add ${remote} <url>) or pass the remote's URL`,
      );
    }
    return await withRepositoryLock(await git.gitDir(), async () => {
      const head = await git.revParse('HEAD');
      if (!head)
        throw new DeliveryInputError(`branch ${branch} of ${root} has no commit yet`, 'commit the manifests first');
      const result = await commitAndPush(git, opts, head, remote, remoteBranch, push, undefined);
      if (result.commit) {
        // The working copy follows (a fast-forward touches only the committed files).
        if (await git.mergeFastForward(result.commit)) result.localUpdated = true;
        else
          result.notes.push(
            `local branch ${branch} was not fast-forwarded to ${result.commit.slice(0, 12)}; run git pull --ff-only`,
          );
      }
      return result;
    });
  } finally {
    await git.dispose();
  }
}
