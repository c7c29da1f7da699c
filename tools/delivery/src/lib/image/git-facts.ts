import { readFileSync } from 'node:fs';
import { runProcess } from '../shared/process';

/** Where the build sits in git, as docker/metadata-action sees it. */
export interface GitFacts {
  /** Full 40-hex commit id. */
  sha: string;
  /** GitHub event name (`push`, `pull_request`, ...) or `local` outside Actions. */
  event: string;
  /** Full ref, e.g. `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/42/merge`; empty when detached. */
  ref: string;
  /** Branch name for branch builds (PR builds: the PR's head branch). */
  branch?: string;
  /** Git tag name for tag builds. */
  tag?: string;
  /** Pull request number for PR builds. */
  prNumber?: number;
  defaultBranch: string;
  /** Browsable repository URL (https://host/owner/name) when known. */
  repositoryUrl?: string;
  /** Repository owner (used in the default image repository). */
  owner?: string;
  /** Commit date (ISO 8601) for `{{commit_date}}`; the current date is used when unknown. */
  commitDate?: string;
  /** Target branch of a pull request, or the branch a tag was pushed from, for `{{base_ref}}`. */
  baseRef?: string;
  /** Every tag on the commit: one commit can carry several `<project>@<version>` release tags. */
  tagsAtHead?: string[];
}

function isPullRef(ref: string): boolean {
  return ref.startsWith('refs/pull/');
}

export function isPullRequestEvent(event: string): boolean {
  return event === 'pull_request' || event === 'pull_request_target';
}

/** Facts from the GitHub Actions environment, or undefined when not running in Actions. */
export function gitFactsFromGithubEnv(
  env: NodeJS.ProcessEnv,
  readEvent: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): GitFacts | undefined {
  if (env['GITHUB_ACTIONS'] !== 'true' || !env['GITHUB_SHA']) return undefined;
  const ref = env['GITHUB_REF'] ?? '';
  const event = env['GITHUB_EVENT_NAME'] ?? 'push';
  let payload: Record<string, unknown> = {};
  if (env['GITHUB_EVENT_PATH']) {
    try {
      payload = JSON.parse(readEvent(env['GITHUB_EVENT_PATH'])) as Record<string, unknown>;
    } catch {
      payload = {};
    }
  }
  const repository = payload['repository'] as { default_branch?: string } | undefined;
  const pullRequest = payload['pull_request'] as
    | { number?: number; head?: { sha?: string }; base?: { ref?: string } }
    | undefined;
  const headCommit = payload['head_commit'] as { timestamp?: string } | undefined;
  const facts: GitFacts = {
    sha: env['GITHUB_SHA'],
    event,
    ref,
    defaultBranch: repository?.default_branch ?? env['SLIPWAY_DEFAULT_BRANCH'] ?? 'main',
    owner: env['GITHUB_REPOSITORY_OWNER'] ?? env['GITHUB_REPOSITORY']?.split('/')[0],
  };
  if (env['GITHUB_REPOSITORY'])
    facts.repositoryUrl = `${env['GITHUB_SERVER_URL'] ?? 'https://github.com'}/${env['GITHUB_REPOSITORY']}`;
  if (ref.startsWith('refs/heads/')) facts.branch = ref.slice('refs/heads/'.length);
  if (ref.startsWith('refs/tags/')) facts.tag = ref.slice('refs/tags/'.length);
  if (headCommit?.timestamp) facts.commitDate = headCommit.timestamp;
  const baseRef = typeof payload['base_ref'] === 'string' ? payload['base_ref'] : undefined;
  if (facts.tag && baseRef) facts.baseRef = baseRef.replace(/^refs\/heads\//, '');
  if (isPullRef(ref) && pullRequest?.base?.ref) facts.baseRef = pullRequest.base.ref;
  const prMatch = /^refs\/pull\/(\d+)\//.exec(ref);
  if (prMatch) facts.prNumber = Number(prMatch[1]);
  else if (pullRequest?.number) facts.prNumber = pullRequest.number;
  if (isPullRequestEvent(event) && env['GITHUB_HEAD_REF']) facts.branch = env['GITHUB_HEAD_REF'];
  // metadata-action's DOCKER_METADATA_PR_HEAD_SHA: tag PR images with the head commit, not the merge commit.
  if (isPullRequestEvent(event) && env['DOCKER_METADATA_PR_HEAD_SHA'] === 'true' && pullRequest?.head?.sha)
    facts.sha = pullRequest.head.sha;
  return facts;
}

async function git(cwd: string, args: string[]): Promise<string | undefined> {
  try {
    const result = await runProcess('git', args, { cwd, timeoutMs: 30_000 });
    return result.code === 0 ? result.stdout.trim() : undefined;
  } catch {
    return undefined;
  }
}

/** Turn a git remote URL into a browsable https URL (ssh and scp-like forms included). */
export function remoteToBrowsableUrl(remote: string | undefined): string | undefined {
  if (!remote) return undefined;
  const trimmed = remote.trim().replace(/\.git$/, '');
  const scp = /^[\w.-]+@([\w.-]+):(.+)$/.exec(trimmed);
  if (scp) return `https://${scp[1]}/${scp[2]}`;
  try {
    const url = new URL(trimmed);
    if (url.protocol === 'file:') return undefined;
    return `https://${url.host}${url.pathname}`;
  } catch {
    return undefined;
  }
}

/** Facts read from the local git checkout (outside CI). */
export async function gitFactsFromLocalGit(cwd: string, fallbackDefaultBranch = 'main'): Promise<GitFacts> {
  const sha = await git(cwd, ['rev-parse', 'HEAD']);
  if (!sha)
    throw new Error(
      `Cannot read the git commit in ${cwd}: run the image build inside a git checkout with at least one commit.`,
    );
  const branch = await git(cwd, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  const tagsAtHead = (await git(cwd, ['tag', '--points-at', 'HEAD']))?.split('\n').filter(Boolean) ?? [];
  const originHead = await git(cwd, ['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD']);
  const remote = await git(cwd, ['remote', 'get-url', 'origin']);
  const repositoryUrl = remoteToBrowsableUrl(remote);
  const commitDate = await git(cwd, ['log', '-1', '--format=%cI', 'HEAD']);
  const facts: GitFacts = {
    sha,
    event: 'local',
    ref: branch ? `refs/heads/${branch}` : tagsAtHead[0] ? `refs/tags/${tagsAtHead[0]}` : '',
    defaultBranch: originHead?.replace(/^origin\//, '') || fallbackDefaultBranch,
    repositoryUrl,
    owner: repositoryUrl?.split('/')[3],
  };
  if (branch) facts.branch = branch;
  if (commitDate) facts.commitDate = commitDate;
  if (tagsAtHead.length > 0) facts.tagsAtHead = tagsAtHead;
  // A tag build is a checkout of the tag itself (detached HEAD), as on a tag push in CI.
  if (!branch && tagsAtHead.length > 0) facts.tag = tagsAtHead[0];
  return facts;
}

export async function resolveGitFacts(
  cwd: string,
  env: NodeJS.ProcessEnv,
  fallbackDefaultBranch = 'main',
): Promise<GitFacts> {
  return gitFactsFromGithubEnv(env) ?? gitFactsFromLocalGit(cwd, fallbackDefaultBranch);
}
