import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GitCli } from '../gitops/git';
import { holdFilePath, serializeHoldFile } from '../gitops/holds';
import { planImageTarget, readImageTarget, type ImageTarget } from '../manifests/image-targets';

/**
 * The local environment's GitOps repository: a bare remote and a clone of it under the state folder
 * (.local/deploy/<env>/), seeded from this repository's deploy/k8s. Releases commit there — bumps,
 * holds, history — so `deploy:local` exercises the same GitOps steps as staging and production
 * without ever touching the user's working tree.
 *
 * Before each release the manifests are synced from the working tree (a developer edits
 * deploy/k8s and redeploys); the local overlay keeps the image references the local repository
 * already pins, since those are what was deployed.
 */
export interface LocalGitOpsOptions {
  sourceRoot: string;
  environment: string;
  stateDir: string;
  overlaysDir: string;
  holdsDir: string;
  /** Folder synced from the source (default deploy/k8s). */
  manifestsDir?: string;
  sourceRevision?: string;
  log?: (line: string) => void;
}

export interface LocalGitOps {
  /** The clone (working copy) releases use. */
  root: string;
  /** The bare repository, its `origin`. */
  remote: string;
  seeded: boolean;
  /** Files changed by the sync commit (empty: already in sync). */
  synced: string[];
}

const IDENTITY = [
  '-c',
  'user.name=Slipway Local',
  '-c',
  'user.email=slipway-local@users.noreply.localhost',
  '-c',
  'commit.gpgsign=false',
];

export function localGitOpsPaths(stateDir: string, environment: string): { dir: string; remote: string; root: string } {
  const dir = path.join(stateDir, environment);
  return {
    dir,
    remote: path.join(dir, 'remote.git'),
    root: path.join(dir, 'repo'),
  };
}

async function walk(dir: string, base: string, out: Map<string, string>): Promise<void> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, base, out);
    else if (entry.isFile())
      out.set(path.relative(base, full).split(path.sep).join('/'), await fs.readFile(full, 'utf8'));
  }
}

/**
 * The source's manifests as the local repository should hold them: identical, except that the
 * environment's overlay keeps the references `current` pins (pure, for tests).
 */
export function desiredManifests(
  source: Map<string, string>,
  currentOverlay: string | undefined,
  overlayFile: string,
): Map<string, string> {
  const desired = new Map(source);
  const sourceOverlay = source.get(overlayFile);
  if (sourceOverlay !== undefined && currentOverlay !== undefined) {
    const target: ImageTarget = { kind: 'kustomize', file: overlayFile };
    const pinned = readImageTarget(target, currentOverlay).map((e) => ({
      project: e.project,
      reference: e.reference,
    }));
    desired.set(overlayFile, planImageTarget(target, sourceOverlay, pinned).plan.after);
  }
  return desired;
}

export async function ensureLocalGitOps(options: LocalGitOpsOptions): Promise<LocalGitOps> {
  const log = options.log ?? (() => undefined);
  const manifestsDir = options.manifestsDir ?? 'deploy/k8s';
  const { dir, remote, root } = localGitOpsPaths(options.stateDir, options.environment);
  let seeded = false;
  if (!(await fs.stat(path.join(root, '.git')).catch(() => undefined))) {
    // A half-made folder (interrupted first run) is rebuilt from scratch: it holds no release yet.
    await fs.rm(dir, { recursive: true, force: true });
    await fs.mkdir(dir, { recursive: true });
    const outside = new GitCli(dir);
    await outside.runOk(['init', '--quiet', '--bare', '--initial-branch=main', remote]);
    await outside.runOk(['clone', '--quiet', remote, root]);
    // Cloning an empty repository leaves HEAD on git's default branch name; releases commit on main.
    await new GitCli(root).runOk(['symbolic-ref', 'HEAD', 'refs/heads/main']);
    seeded = true;
    log(`created the ${options.environment} GitOps repository ${root} (remote ${remote})`);
  }
  const git = new GitCli(root);
  const source = new Map<string, string>();
  await walk(path.join(options.sourceRoot, manifestsDir), options.sourceRoot, source);
  if (source.size === 0) throw new Error(`${path.join(options.sourceRoot, manifestsDir)} holds no manifests to deploy`);
  const local = new Map<string, string>();
  await walk(path.join(root, manifestsDir), root, local);
  const overlayFile = `${options.overlaysDir}/${options.environment}/kustomization.yaml`;
  const desired = desiredManifests(source, local.get(overlayFile), overlayFile);

  const holdsFile = holdFilePath(options.holdsDir, options.environment);
  if (!(await fs.stat(path.join(root, holdsFile)).catch(() => undefined))) {
    desired.set(holdsFile, serializeHoldFile({ environment: options.environment, holds: [] }));
  }
  const changed: string[] = [];
  for (const [file, content] of desired) {
    if (local.get(file) === content) continue;
    if (file === holdsFile && local.has(file)) continue;
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
    changed.push(file);
  }
  for (const file of local.keys()) {
    if (desired.has(file)) continue;
    await fs.rm(path.join(root, file), { force: true });
    changed.push(file);
  }
  if (changed.length > 0) {
    await git.runOk(['add', '-A', '--', manifestsDir, holdsFile]);
    const what = seeded ? `seed the ${options.environment} GitOps repository` : `sync ${options.environment} manifests`;
    const from = options.sourceRevision ? ` from ${options.sourceRevision.slice(0, 12)}` : '';
    await git.runOk([
      ...IDENTITY,
      'commit',
      '--quiet',
      '--no-verify',
      '-m',
      `chore(deploy): ${what}${from}`,
      '-m',
      `Files: ${changed.slice(0, 20).join(', ')}${changed.length > 20 ? ', …' : ''}`,
    ]);
    await git.runOk(['push', '--quiet', 'origin', 'HEAD:refs/heads/main']);
    if (seeded) await git.run(['branch', '--quiet', '--set-upstream-to=origin/main']);
    log(`${what}${from}: ${changed.length} file${changed.length === 1 ? '' : 's'}`);
  }
  return { root, remote, seeded, synced: changed };
}
