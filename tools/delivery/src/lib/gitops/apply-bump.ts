import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  recoverInterruptedWrite,
  writeFilesAtomically,
  preflightWrites,
  type AtomicWriteHooks,
} from '../manifests/atomic-write';
import { unifiedDiff } from '../manifests/diff';
import { decodeFileBytes } from '../manifests/file-bytes';
import { DeliveryInputError } from '../shared/errors';
import { formatImageReference, sameReference, type ImageReference } from '../image/reference';
import {
  planImageTarget,
  readImageTarget,
  type FilePlan,
  type ImageChange,
  type ImageTarget,
} from '../manifests/image-targets';
import { assertEnvironmentName, assertPinnedReference, assertUniqueProjects } from './bump-request';
import { redactUrlCredentials } from '../shared/redact';
import { GitCli, GitError, type GitAuth, type PushOutcome } from './git';
import { holdFilePath, parseHoldFile, serializeHoldFile, type Hold } from './holds';
import { withRepositoryLock } from './repo-lock';
import { pushRetryPolicy, retryWithJitter } from '../shared/retry';
import { commitTreeLookup, resolveBumpPaths, workingTreeLookup } from './workspace-paths';
import { buildBumpMessage } from './trailers';

export const DEFAULT_OVERLAYS_DIR = 'deploy/k8s/overlays';
export const DEFAULT_HOLDS_DIR = 'deploy/holds';
const PATH_DEFAULTS = { overlaysDir: DEFAULT_OVERLAYS_DIR, holdsDir: DEFAULT_HOLDS_DIR };

export interface BumpGitOptions {
  /** Commit the change (default true). Without it the files are only written. */
  commit?: boolean;
  /** Push the commit (default true when committing). */
  push?: boolean;
  /**
   * A remote of the working copy (default `origin`), or a URL / absolute path of another GitOps
   * repository: then the bump is made in a private temporary clone and no local file changes.
   */
  remote?: string;
  /** Branch to commit on and push to (default: the checked-out branch; `main` for a URL remote). */
  branch?: string;
  /** Token for an http(s) remote (the value; read it from the environment). Never printed. */
  token?: string;
  tokenUser?: string;
  author?: { name: string; email: string };
  /** Push attempts in total, including the first (default 5). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export interface ApplyBumpOptions {
  /** The GitOps working copy (this repository's root for the default layout). */
  workspaceRoot: string;
  environment: string;
  changes: ImageChange[];
  /** Files holding the environment's image references (repo-relative). Default: the overlay's kustomization. */
  targets?: ImageTarget[];
  overlaysDir?: string;
  holdsDir?: string;
  /** Move held projects anyway and remove their holds in the same commit: all (true) or the listed ones. */
  releaseHolds?: boolean | string[];
  /**
   * Holds to write in the same commit as the images (a rollback pins what it restored). Each one
   * replaces that project's existing hold. Written only when an image changes; the hold file
   * (`<holdsDir>/<environment>.json`) must exist.
   */
  addHolds?: Hold[];
  /** Commit message: Conventional Commit `type(scope)` prefix (default `chore(deploy)`) and body paragraph. */
  message?: { prefix?: string; body?: string; trailers?: string[] };
  dryRun?: boolean;
  git?: BumpGitOptions;
  /** Fault injection for tests, and the push attempt hook. */
  hooks?: AtomicWriteHooks & { beforePush?: (attempt: number) => void | Promise<void> };
  log?: (line: string) => void;
  random?: () => number;
  /** The git adapter (default: the git CLI); tests swap in one that injects push outcomes. */
  createGit?: GitFactory;
}

export type GitFactory = (dir: string, auth: GitAuth) => GitCli;
const defaultGitFactory: GitFactory = (dir, auth) => new GitCli(dir, auth);

export interface ImageBumpResult {
  project: string;
  previous: string;
  next: string;
  changed: boolean;
  locations: string[];
}

export interface ApplyBumpResult {
  environment: string;
  changed: boolean;
  images: ImageBumpResult[];
  /** project → reference before the bump (what a rollback restores). */
  previous: Record<string, string>;
  files: { path: string; before: string; after: string }[];
  diff: string;
  releasedHolds: string[];
  message?: string;
  commit?: string;
  pushed: boolean;
  pushAttempts: number;
  remote?: string;
  branch?: string;
  /** Whether the local working copy now has the bump (false for URL remotes and dry runs). */
  localUpdated: boolean;
  notes: string[];
}

interface SourceReader {
  read(file: string): Promise<string | undefined>;
  list(dir: string): Promise<string[]>;
}

interface BumpPlan {
  files: FilePlan[];
  holdFile?: { path: string; before: string; after: string };
  images: ImageBumpResult[];
  previousRefs: Map<string, ImageReference>;
  releasedHolds: string[];
  changed: boolean;
}

function defaultTargets(environment: string, overlaysDir: string): ImageTarget[] {
  return [{ kind: 'kustomize', file: `${overlaysDir}/${environment}/kustomization.yaml` }];
}

function isUrlRemote(remote: string): boolean {
  return remote.includes('://') || /^[^/\s]+@[^/\s]+:/.test(remote) || path.isAbsolute(remote);
}

/**
 * Plan a bump against one snapshot of the repository (working tree, a commit, a fetched head).
 * Pure apart from reading through `reader`: throws a DeliveryInputError naming the value and the fix
 * for anything wrong, before anything is written.
 */
async function planBump(reader: SourceReader, opts: ApplyBumpOptions): Promise<BumpPlan> {
  const overlaysDir = opts.overlaysDir ?? DEFAULT_OVERLAYS_DIR;
  const targets = opts.targets ?? defaultTargets(opts.environment, overlaysDir);
  const files: FilePlan[] = [];
  const handled = new Set<string>();
  const known = new Set<string>();
  for (const target of targets) {
    const source = await reader.read(target.file);
    if (source === undefined) {
      if (!opts.targets) {
        const environments = (await reader.list(overlaysDir)).sort();
        throw new DeliveryInputError(
          `unknown environment '${opts.environment}': ${target.file} does not exist`,
          `use one of: ${environments.join(', ') || '(no overlays found)'}; or create ${target.file}`,
        );
      }
      throw new DeliveryInputError(
        `${target.file} (a ${target.kind} target of '${opts.environment}') does not exist`,
        'fix the target path',
      );
    }
    const { plan, handled: h } = planImageTarget(target, source, opts.changes);
    for (const p of h) handled.add(p);
    files.push({ ...plan, before: source });
  }
  const missing = opts.changes.filter((c) => !handled.has(c.project));
  if (missing.length > 0) {
    // Only on this error path: list what the targets do pin (another full parse).
    targets.forEach((t, i) => readImageTarget(t, files[i].before).forEach((e) => known.add(e.project)));
    const c = missing[0];
    throw new DeliveryInputError(
      `image '${c.project}' (${c.source ?? 'requested'}) is not in the ${opts.environment} overlay: ${targets.map((t) => t.file).join(', ')} has no entry for it (it has: ${[...known].sort().join(', ') || 'none'})`,
      `add an images: entry named slipway/${c.project} to the overlay, or leave ${c.project} out of the bump`,
    );
  }

  const images: ImageBumpResult[] = [];
  const previousRefs = new Map<string, ImageReference>();
  for (const change of opts.changes) {
    const occurrences = files.flatMap((f) => f.occurrences).filter((o) => o.project === change.project);
    previousRefs.set(change.project, occurrences[0].previous);
    images.push({
      project: change.project,
      previous: formatImageReference(occurrences[0].previous),
      next: formatImageReference(change.reference),
      changed: occurrences.some((o) => o.changed),
      locations: occurrences.map((o) => `${o.file}: ${o.location}`),
    });
  }

  // Holds: a held project moves only when its hold is released explicitly.
  const holdsPath = holdFilePath(opts.holdsDir ?? DEFAULT_HOLDS_DIR, opts.environment);
  const holdSource = await reader.read(holdsPath);
  const releasedHolds: string[] = [];
  let holdFile: BumpPlan['holdFile'];
  if (holdSource !== undefined) {
    const holds = parseHoldFile(holdSource, holdsPath, opts.environment);
    const kept: Hold[] = [];
    for (const hold of holds.holds) {
      const image = images.find((i) => i.project === hold.project);
      if (!image || !image.changed || image.next === hold.reference) {
        kept.push(hold);
        continue;
      }
      const release =
        opts.releaseHolds === true || (Array.isArray(opts.releaseHolds) && opts.releaseHolds.includes(hold.project));
      if (!release) {
        throw new DeliveryInputError(
          `project '${hold.project}' is held in ${opts.environment} at ${hold.reference} since ${hold.since || '?'} (reason: ${hold.reason || 'none given'}); refusing to move it to ${image.next}`,
          `pass --release-hold to move it and remove the hold in the same commit, or leave ${hold.project} out of the bump`,
        );
      }
      releasedHolds.push(hold.project);
    }
    if (releasedHolds.length > 0) {
      holdFile = { path: holdsPath, before: holdSource, after: serializeHoldFile({ ...holds, holds: kept }) };
    }
  }
  const changed = images.some((i) => i.changed);
  if (changed && opts.addHolds && opts.addHolds.length > 0) {
    if (holdSource === undefined) {
      throw new DeliveryInputError(
        `${holdsPath} does not exist, so the hold for ${opts.addHolds.map((h) => h.project).join(', ')} can not be written`,
        `create it with { "environment": "${opts.environment}", "holds": [] } and commit it`,
      );
    }
    const current = parseHoldFile(holdFile ? holdFile.after : holdSource, holdsPath, opts.environment);
    const added = new Set(opts.addHolds.map((h) => h.project));
    const next = { ...current, holds: [...current.holds.filter((h) => !added.has(h.project)), ...opts.addHolds] };
    holdFile = { path: holdsPath, before: holdSource, after: serializeHoldFile(next) };
  }
  return { files, holdFile, images, previousRefs, releasedHolds, changed };
}

function planWrites(plan: BumpPlan): { path: string; before: string; after: string }[] {
  const writes = plan.files
    .filter((f) => f.after !== f.before)
    .map((f) => ({ path: f.file, before: f.before, after: f.after }));
  if (plan.holdFile) writes.push(plan.holdFile);
  return writes;
}

function planDiff(plan: BumpPlan): string {
  return planWrites(plan)
    .map((w) => unifiedDiff(w.before, w.after, w.path))
    .join('');
}

function commitMessage(opts: ApplyBumpOptions, plan: BumpPlan): string {
  return buildBumpMessage({
    environment: opts.environment,
    images: opts.changes
      .filter((c) => plan.images.find((i) => i.project === c.project)?.changed)
      .map((c) => ({
        project: c.project,
        next: c.reference,
        previous: plan.previousRefs.get(c.project) as ImageReference,
      })),
    releasedHolds: plan.releasedHolds,
    prefix: opts.message?.prefix,
    body: opts.message?.body,
    trailers: opts.message?.trailers,
  });
}

/**
 * After a rejected push the bump is planned again on the new remote head. An image someone else
 * moved meanwhile (to anything but our target) is a real conflict: both values are named.
 */
function assertNoConflict(first: BumpPlan, again: BumpPlan, opts: ApplyBumpOptions, where: string): void {
  for (const change of opts.changes) {
    const ours = first.previousRefs.get(change.project) as ImageReference;
    const theirs = again.previousRefs.get(change.project) as ImageReference;
    if (!first.images.find((i) => i.project === change.project)?.changed) continue;
    if (sameReference(theirs, ours) || sameReference(theirs, change.reference)) continue;
    throw new DeliveryInputError(
      `conflict in ${opts.environment}: '${change.project}' was changed on ${where} to ${formatImageReference(theirs)} while this bump moves it from ${formatImageReference(ours)} to ${formatImageReference(change.reference)}`,
      'decide which reference wins, then run the bump again (it starts from the new head)',
    );
  }
}

function validateRequest(opts: ApplyBumpOptions): void {
  assertEnvironmentName(opts.environment);
  if (opts.changes.length === 0) {
    throw new DeliveryInputError(
      'nothing to bump: no image records and no --set given',
      'build images first, or pass --set <project>=<ref>',
    );
  }
  assertUniqueProjects(opts.changes);
  for (const c of opts.changes)
    assertPinnedReference(c.reference, formatImageReference(c.reference), c.source ?? c.project);
}

function baseResult(opts: ApplyBumpOptions, plan: BumpPlan): ApplyBumpResult {
  return {
    environment: opts.environment,
    changed: plan.changed,
    images: plan.images,
    previous: Object.fromEntries([...plan.previousRefs].map(([k, v]) => [k, formatImageReference(v)])),
    files: planWrites(plan),
    diff: planDiff(plan),
    releasedHolds: plan.releasedHolds,
    message: plan.changed ? commitMessage(opts, plan) : undefined,
    pushed: false,
    pushAttempts: 0,
    localUpdated: false,
    notes: [],
  };
}

function pushError(outcome: PushOutcome, remote: string, branch: string, attempts: number): DeliveryInputError {
  switch (outcome.kind) {
    case 'auth':
      return new DeliveryInputError(
        `push to ${remote} (${branch}) was refused for authentication: ${outcome.detail}`,
        'set the token variable named by --token-env (default GITOPS_TOKEN) to a token that may push to this repository',
      );
    case 'declined':
      return new DeliveryInputError(
        `push to ${remote} (${branch}) was declined by the remote: ${outcome.detail}`,
        "check the remote's branch protection / hooks",
      );
    case 'rejected':
      return new DeliveryInputError(
        `push to ${remote} (${branch}) was still rejected after ${attempts} attempts (others kept pushing): ${outcome.detail}`,
        'run the bump again, or raise --max-push-attempts',
      );
    default:
      return new DeliveryInputError(
        `push to ${remote} (${branch}) failed: ${outcome.detail}`,
        'check the remote URL and network, then run again',
      );
  }
}

/** Journal data that lets a crashed local apply be finished: the ref update that goes with the files. */
interface LocalApplyMeta {
  ref: string;
  oldCommit: string;
  newCommit: string;
  blobs: { path: string; sha: string; mode: string }[];
}

async function recoverLocal(git: GitCli, gitDir: string, root: string, targets: string[]): Promise<string[]> {
  const { rolledForward, meta, createdAt } = await recoverInterruptedWrite(
    gitDir,
    targets.map((t) => path.dirname(path.join(root, t))),
    { ownersAreDead: true },
  );
  const m = meta as LocalApplyMeta | undefined;
  if (m) {
    // A git index.lock left by the killed bump (it was updating the index inside its critical
    // section) would block every later git command: remove it if it is not older than the journal.
    const indexLock = path.join(gitDir, 'index.lock');
    const lockStat = await fs.stat(indexLock).catch(() => undefined);
    if (lockStat && createdAt && lockStat.mtimeMs >= Date.parse(createdAt) - 1000)
      await fs.rm(indexLock, { force: true });
    const current = await git.revParse(m.ref);
    if (current === m.oldCommit) await git.updateRef(m.ref, m.newCommit, m.oldCommit, 'slipway bump (recovered)');
    if (current === m.oldCommit || current === m.newCommit) await git.updateIndexEntries(m.blobs);
  }
  return rolledForward;
}

/**
 * Push `commit` (built on `base`); on a non-fast-forward rejection fetch the remote head, plan the
 * bump again on it, rebuild the commit and retry after a jittered backoff, bounded.
 * Returns the pushed commit, or null when the remote already had every reference (nothing to push).
 */
async function pushWithRetry(args: {
  git: GitCli;
  opts: ApplyBumpOptions;
  remote: string;
  branch: string;
  firstPlan: BumpPlan;
  commit: string;
  replan: (remoteHead: string) => Promise<{ plan: BumpPlan; commit: string | null }>;
  result: ApplyBumpResult;
  fetchDepth?: number;
}): Promise<{ commit: string | null; base?: string }> {
  const { git, opts, remote, branch, result } = args;
  const shown = redactUrlCredentials(remote);
  let commit = args.commit;
  let base: string | undefined;
  return retryWithJitter<{ commit: string | null; base?: string }>(
    pushRetryPolicy(opts.git, opts.random),
    async (attempt) => {
      if (attempt > 1) {
        const head = await git.fetchBranch(remote, branch, { depth: args.fetchDepth });
        const again = await args.replan(head);
        assertNoConflict(args.firstPlan, again.plan, opts, `${shown}/${branch} (${head.slice(0, 12)})`);
        if (again.commit === null) {
          result.notes.push(`${shown}/${branch} already has every reference; nothing pushed`);
          return { done: true, value: { commit: null, base: head } };
        }
        commit = again.commit;
        base = head;
      }
      await opts.hooks?.beforePush?.(attempt);
      const outcome = await git.push(remote, commit, branch);
      result.pushAttempts = attempt;
      if (outcome.kind === 'ok') return { done: true, value: { commit, base } };
      return {
        done: false,
        retryable: outcome.kind === 'rejected' || outcome.kind === 'unreachable',
        reason: outcome.kind,
        error: (attempts) => pushError(outcome, shown, branch, attempts),
      };
    },
    ({ delayMs, reason }) =>
      opts.log?.(
        `push to ${shown} ${branch} rejected (${reason}); fetching and re-applying on the new head in ${delayMs} ms`,
      ),
  );
}

function gitReader(git: GitCli, commit: string): SourceReader {
  return {
    read: (file) => git.readFile(commit, file),
    list: async (dir) => {
      const r = await git.run(['ls-tree', '--name-only', `${commit}:${dir}`]);
      return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
    },
  };
}

function workingTreeReader(root: string): SourceReader {
  return {
    // Bytes decoded losslessly: a non-UTF-8 comment is written back byte for byte.
    read: async (file) =>
      fs
        .readFile(path.join(root, file))
        .then(decodeFileBytes)
        .catch(() => undefined),
    list: async (dir) =>
      (await fs.readdir(path.join(root, dir), { withFileTypes: true }).catch(() => []))
        .filter((d) => d.isDirectory())
        .map((d) => d.name),
  };
}

async function buildCommit(git: GitCli, opts: ApplyBumpOptions, base: string, plan: BumpPlan) {
  const writes = planWrites(plan);
  return git.createCommit({
    parent: base,
    files: writes.map((w) => ({ path: w.path, content: w.after })),
    message: commitMessage(opts, plan),
    author: opts.git?.author,
  });
}

/**
 * Write new image references into an environment's GitOps files: comment-preserving scalar edits,
 * all-or-nothing, one commit with trailers, pushed with fetch + re-apply + jittered retry.
 * This is the library entry point for the bump, deploy and rollback executors.
 */
/** Files only (`--no-commit`): no git involved; the files are written atomically or not at all. */
async function applyToWorkingTree(opts: ApplyBumpOptions, root: string): Promise<ApplyBumpResult> {
  const plan = await planBump(workingTreeReader(root), opts);
  const result = baseResult(opts, plan);
  if (!plan.changed || opts.dryRun) return result;
  await writeFilesAtomically(
    planWrites(plan).map((w) => ({ path: path.join(root, w.path), content: w.after, expectedBefore: w.before })),
    { journalDir: path.join(root, '.local'), hooks: opts.hooks },
  );
  result.localUpdated = true;
  return result;
}

/** Validate: the workspace is the top of a git work tree, on a branch, with the remote to push to. */
async function checkCheckout(
  git: GitCli,
  root: string,
  opts: ApplyBumpOptions,
  remote: string,
  pushWanted: boolean,
): Promise<{ branch: string; remoteBranch: string }> {
  const gitOpts = opts.git ?? {};
  if (!(await git.isRepository())) {
    throw new DeliveryInputError(
      `${root} is not a git repository (work tree)`,
      'run the bump inside the GitOps repository clone, or pass --no-commit',
    );
  }
  const topLevel = await git.topLevel();
  if (path.resolve(topLevel) !== (await fs.realpath(root))) {
    throw new DeliveryInputError(
      `${root} is not the top of its git repository (${topLevel})`,
      'pass the repository root as the workspace',
    );
  }
  const branch = await git.currentBranch();
  if (branch === null) {
    const head = await git.revParse('HEAD');
    throw new DeliveryInputError(
      `HEAD is detached${head ? ` at ${head.slice(0, 12)}` : ''} in ${root}; a bump commits on a branch`,
      'check out the branch to bump (e.g. git switch main)',
    );
  }
  const remoteBranch = gitOpts.branch ?? branch;
  if (gitOpts.branch && gitOpts.branch !== branch) {
    throw new DeliveryInputError(
      `--branch ${gitOpts.branch} differs from the checked-out branch ${branch}`,
      `check out ${gitOpts.branch}, or pass the repository URL as --remote to bump another branch without a checkout`,
    );
  }
  if (pushWanted && (await git.remoteUrl(remote)) === null) {
    throw new DeliveryInputError(
      `git remote '${remote}' does not exist in ${root}`,
      `add it (git remote add ${remote} <url>), pass --remote=<url>, or pass --no-push`,
    );
  }
  return { branch, remoteBranch };
}

/** Validate: the files the bump writes have no uncommitted change and are tracked by git. */
async function checkTargetsCommitted(
  git: GitCli,
  root: string,
  head: string,
  targets: string[],
  holdsPath: string,
): Promise<void> {
  const dirty = await git.dirtyPaths([...targets, holdsPath]);
  if (dirty.length > 0) {
    throw new DeliveryInputError(
      `${dirty.join(', ')} ${dirty.length === 1 ? 'has' : 'have'} uncommitted changes; the bump would commit them too`,
      'commit or discard those changes first',
    );
  }
  for (const t of targets) {
    if ((await git.readFile(head, t)) === undefined && (await workingTreeReader(root).read(t)) !== undefined) {
      throw new DeliveryInputError(`${t} is not committed to git`, `git add ${t} and commit it first`);
    }
  }
}

/**
 * Commit: the commit sits directly on the local HEAD, so write the files and move the branch and
 * index together, journaled: a crash is finished by recovery, a failed rename undoes it all.
 */
async function commitToLocalBranch(args: {
  git: GitCli;
  gitDir: string;
  root: string;
  opts: ApplyBumpOptions;
  branch: string;
  head: string;
  built: { commit: string; blobs: LocalApplyMeta['blobs'] };
  writes: { path: string; before: string; after: string }[];
  result: ApplyBumpResult;
  remote: string;
}): Promise<void> {
  const { git, opts, built, result } = args;
  const meta: LocalApplyMeta = {
    ref: `refs/heads/${args.branch}`,
    oldCommit: args.head,
    newCommit: built.commit,
    blobs: built.blobs,
  };
  await writeFilesAtomically(
    args.writes.map((w) => ({ path: path.join(args.root, w.path), content: w.after, expectedBefore: w.before })),
    {
      journalDir: args.gitDir,
      meta,
      hooks: {
        ...opts.hooks,
        // Branch and index move inside the journaled section, so a crash is finished by recovery.
        afterCommitPoint: async () => {
          await opts.hooks?.afterCommitPoint?.();
          await git.updateRef(meta.ref, meta.newCommit, meta.oldCommit, `slipway bump ${opts.environment}`);
          await git.updateIndexEntries(meta.blobs);
        },
      },
    },
  ).catch(async (error) => {
    // A failed rename was rolled back; undo the ref and index move too if they happened.
    if ((await git.revParse(meta.ref)) === meta.newCommit) {
      await git.updateRef(meta.ref, meta.oldCommit, meta.newCommit, 'slipway bump rolled back');
      await git.updateIndexEntries(
        await git.blobsAt(
          meta.oldCommit,
          meta.blobs.map((b) => b.path),
        ),
      );
    }
    if (result.pushed) {
      throw new GitError(
        `${(error as Error).message} (the commit ${built.commit.slice(0, 12)} was pushed to ${args.remote}; run git pull to get it)`,
      );
    }
    throw error;
  });
  result.localUpdated = true;
}

/** Retry: push, re-planning on the newer remote head after a rejection (the result follows the last plan). */
function pushReplanning(
  git: GitCli,
  opts: ApplyBumpOptions,
  plan: BumpPlan,
  commit: string,
  result: ApplyBumpResult,
  remote: string,
  remoteBranch: string,
): Promise<{ commit: string | null; base?: string }> {
  return pushWithRetry({
    git,
    opts,
    remote,
    branch: remoteBranch,
    firstPlan: plan,
    commit,
    result,
    replan: async (remoteHead) => {
      const again = await planBump(gitReader(git, remoteHead), opts);
      if (!again.changed) return { plan: again, commit: null };
      result.files = planWrites(again);
      result.diff = planDiff(again);
      result.message = commitMessage(opts, again);
      return { plan: again, commit: (await buildCommit(git, opts, remoteHead, again)).commit };
    },
  });
}

/** Inside the repository lock: recover, validate, plan, diff, commit, push, update the checkout. */
async function bumpLocked(
  git: GitCli,
  gitDir: string,
  root: string,
  opts: ApplyBumpOptions,
  checkout: { branch: string; remoteBranch: string; remote: string; pushWanted: boolean },
): Promise<ApplyBumpResult> {
  const { branch, remoteBranch, remote, pushWanted } = checkout;
  const log = opts.log ?? (() => undefined);
  const targets = (opts.targets ?? defaultTargets(opts.environment, opts.overlaysDir ?? DEFAULT_OVERLAYS_DIR)).map(
    (t) => t.file,
  );
  const recovered = await recoverLocal(git, gitDir, root, targets);
  if (recovered.length > 0) log(`finished an interrupted bump: ${recovered.join(', ')}`);
  const head = await git.revParse('HEAD');
  if (!head) throw new DeliveryInputError(`branch ${branch} has no commit yet`, 'commit the manifests first');
  await checkTargetsCommitted(
    git,
    root,
    head,
    targets,
    holdFilePath(opts.holdsDir ?? DEFAULT_HOLDS_DIR, opts.environment),
  );
  const plan = await planBump(gitReader(git, head), opts);
  const result: ApplyBumpResult = {
    ...baseResult(opts, plan),
    remote: pushWanted ? remote : undefined,
    branch: remoteBranch,
  };
  if (!plan.changed || opts.dryRun) return result;
  const writes = planWrites(plan);
  // Everything that can be checked locally is checked before anything leaves the machine.
  await preflightWrites(
    writes.map((w) => ({ path: path.join(root, w.path), content: w.after, expectedBefore: w.before })),
  );
  const built = await buildCommit(git, opts, head, plan);
  result.message = commitMessage(opts, plan);
  let pushed: { commit: string | null; base?: string } = { commit: built.commit };
  if (pushWanted) {
    pushed = await pushReplanning(git, opts, plan, built.commit, result, remote, remoteBranch);
    result.pushed = pushed.commit !== null;
  }
  result.commit = pushed.commit ?? undefined;
  if (pushed.base === undefined) {
    await commitToLocalBranch({ git, gitDir, root, opts, branch, head, built, writes, result, remote });
  } else if (pushed.commit !== null || pushed.base) {
    // Pushed on top of a newer remote head: bring the local branch along if it can fast-forward.
    const target = pushed.commit ?? pushed.base;
    if (target && (await git.mergeFastForward(target))) result.localUpdated = true;
    else
      result.notes.push(
        `local branch ${branch} was not fast-forwarded to ${remote}/${remoteBranch}; run git pull --ff-only`,
      );
  }
  return result;
}

export async function applyBump(request: ApplyBumpOptions): Promise<ApplyBumpResult> {
  validateRequest(request);
  const gitOpts = request.git ?? {};
  const commitWanted = gitOpts.commit !== false;
  const pushWanted = commitWanted && gitOpts.push !== false;
  const remote = gitOpts.remote ?? 'origin';

  if (pushWanted && isUrlRemote(remote)) return applyBumpToUrl(request, remote);

  const root = path.resolve(request.workspaceRoot);
  const opts = await resolveBumpPaths(request, await workingTreeLookup(root), PATH_DEFAULTS);
  if (!commitWanted) return applyToWorkingTree(opts, root);

  const git = (opts.createGit ?? defaultGitFactory)(root, { token: gitOpts.token, username: gitOpts.tokenUser });
  try {
    const { branch, remoteBranch } = await checkCheckout(git, root, opts, remote, pushWanted);
    const gitDir = await git.gitDir();
    return await withRepositoryLock(gitDir, () =>
      bumpLocked(git, gitDir, root, opts, { branch, remoteBranch, remote, pushWanted }),
    );
  } finally {
    await git.dispose();
  }
}

export async function recoverInterruptedBump(opts: {
  workspaceRoot: string;
  environment: string;
  targets?: ImageTarget[];
  overlaysDir?: string;
}): Promise<string[]> {
  const root = path.resolve(opts.workspaceRoot);
  const git = new GitCli(root);
  const gitDir = await git.gitDir();
  const targets = (opts.targets ?? defaultTargets(opts.environment, opts.overlaysDir ?? DEFAULT_OVERLAYS_DIR)).map(
    (t) => t.file,
  );
  return withRepositoryLock(gitDir, () => recoverLocal(git, gitDir, root, targets));
}

/** Bump another repository by URL: a private shallow clone (bare, no working tree), commit, push. */
async function applyBumpToUrl(request: ApplyBumpOptions, url: string): Promise<ApplyBumpResult> {
  let opts = request;
  const gitOpts = opts.git ?? {};
  const branch = gitOpts.branch ?? 'main';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-gitops-'));
  const git = (opts.createGit ?? defaultGitFactory)(dir, { token: gitOpts.token, username: gitOpts.tokenUser });
  try {
    await git.runOk(['init', '--bare', '--quiet']);
    let head: string;
    try {
      head = await git.fetchBranch(url, branch, { depth: 1 });
    } catch (error) {
      const detail = (error as Error).message;
      const auth = /Authentication failed|could not read Username|terminal prompts disabled|401|403/i.test(detail);
      throw new DeliveryInputError(
        `can not fetch branch '${branch}' of ${redactUrlCredentials(url)}: ${detail}`,
        auth ? 'set the token variable named by --token-env (default GITOPS_TOKEN)' : 'check --remote and --branch',
      );
    }
    opts = await resolveBumpPaths(opts, commitTreeLookup(git, head, dir), PATH_DEFAULTS);
    const plan = await planBump(gitReader(git, head), opts);
    const result: ApplyBumpResult = { ...baseResult(opts, plan), remote: redactUrlCredentials(url), branch };
    if (!plan.changed || opts.dryRun) return result;
    const built = await buildCommit(git, opts, head, plan);
    result.message = commitMessage(opts, plan);
    const pushed = await pushWithRetry({
      git,
      opts,
      remote: url,
      branch,
      firstPlan: plan,
      commit: built.commit,
      result,
      fetchDepth: 1,
      replan: async (remoteHead) => {
        const again = await planBump(gitReader(git, remoteHead), opts);
        if (!again.changed) return { plan: again, commit: null };
        result.files = planWrites(again);
        result.diff = planDiff(again);
        result.message = commitMessage(opts, again);
        return { plan: again, commit: (await buildCommit(git, opts, remoteHead, again)).commit };
      },
    });
    result.commit = pushed.commit ?? undefined;
    result.pushed = pushed.commit !== null;
    return result;
  } finally {
    await git.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  }
}
