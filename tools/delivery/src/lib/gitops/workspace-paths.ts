import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import type { ImageTarget } from '../manifests/image-targets';
import type { GitCli } from './git';

/**
 * Every path a bump reads or writes, resolved inside the workspace. A path option is taken
 * relative to the workspace root; each component is looked up (in the working tree, or in the tree
 * of a commit for a bump built on a fetched head) and symlinks are followed the way the kernel
 * would. The bump then reads and writes the resolved path, so a symlinked kustomization.yaml is
 * edited at its target both with --no-commit and in a commit (instead of being replaced by a copy,
 * or committed as a symlink blob holding YAML). A path, or a symlink, that leads out of the
 * workspace is refused, and a folder where a file belongs is named as such.
 */
export type PathEntry = { kind: 'file' } | { kind: 'dir' } | { kind: 'symlink'; target: string } | { kind: 'missing' };

export interface PathLookup {
  /** What `repoPath` ('/'-separated, relative to the workspace root) is, without following a final symlink. */
  entry(repoPath: string): Promise<PathEntry>;
  /** The workspace root as the user sees it and as the kernel does (for absolute symlink targets). */
  roots: string[];
}

export interface ResolvedPath {
  /** Workspace-relative, '/'-separated, every symlink followed. */
  path: string;
  kind: 'file' | 'dir' | 'missing';
  /** The symlinks followed on the way, for messages. */
  via: string[];
}

const MAX_SYMLINK_HOPS = 40;

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

function outside(what: string, given: string, where: string): DeliveryInputError {
  return new DeliveryInputError(
    `${what} '${given}' leads outside the workspace (${where}); the bump only reads and writes files of the GitOps repository`,
    `give a path inside the workspace root (relative to it), or run the bump in the repository that holds ${given}`,
  );
}

/** `p` (absolute or relative to the root) as a workspace-relative path, or undefined when it is outside. */
function relativeToRoot(p: string, roots: string[]): string | undefined {
  if (!path.isAbsolute(p)) {
    const normal = path.posix.normalize(p.split(path.sep).join('/'));
    return normal === '..' || normal.startsWith('../') ? undefined : normal.replace(/^\.\/?/, '').replace(/\/$/, '');
  }
  for (const root of roots) {
    const rel = path.relative(root, p);
    if (rel === '') return '';
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return undefined;
}

export async function resolveWorkspacePath(given: string, what: string, lookup: PathLookup): Promise<ResolvedPath> {
  const start = relativeToRoot(given, lookup.roots);
  if (start === undefined) throw outside(what, given, path.resolve(lookup.roots[0], given));
  const via: string[] = [];
  let pending = start === '' ? [] : start.split('/');
  const done: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const [component, ...rest] = pending;
    pending = rest;
    if (component === '' || component === '.') continue;
    if (component === '..') {
      if (done.length === 0) throw outside(what, given, `via ${via.join(' → ') || given}`);
      done.pop();
      continue;
    }
    const candidate = [...done, component].join('/');
    const entry = await lookup.entry(candidate);
    if (entry.kind === 'missing') return { path: [candidate, ...pending].join('/'), kind: 'missing', via };
    if (entry.kind === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) {
        throw new DeliveryInputError(
          `${what} '${given}': too many levels of symlinks at ${candidate}`,
          'fix the symlink loop',
        );
      }
      via.push(`${candidate} -> ${entry.target}`);
      if (path.isAbsolute(entry.target)) {
        const rel = relativeToRoot(entry.target, lookup.roots);
        if (rel === undefined) throw outside(what, given, `${candidate} is a symlink to ${entry.target}`);
        done.length = 0;
        pending = [...(rel === '' ? [] : rel.split('/')), ...pending];
      } else {
        pending = [...entry.target.split('/'), ...pending];
      }
      continue;
    }
    if (entry.kind === 'file' && pending.some((c) => c !== '' && c !== '.')) {
      throw new DeliveryInputError(
        `${what} '${given}': ${candidate} is a file, not a folder`,
        `fix the path (${candidate} can not contain ${pending.join('/')})`,
      );
    }
    done.push(component);
    if (pending.length === 0) return { path: done.join('/'), kind: entry.kind, via };
  }
  return { path: done.join('/'), kind: 'dir', via };
}

/** Resolve a path that must be a file (or not exist yet); a folder there is refused as such. */
export async function resolveWorkspaceFile(given: string, what: string, lookup: PathLookup): Promise<ResolvedPath> {
  const resolved = await resolveWorkspacePath(given, what, lookup);
  if (resolved.kind === 'dir') {
    throw new DeliveryInputError(
      `${what} ${given}${resolved.via.length > 0 ? ` (→ ${resolved.path})` : ''} is a folder, not a file`,
      `point it at the file inside it (e.g. ${resolved.path}/kustomization.yaml), or remove the folder that stands where the file belongs`,
    );
  }
  if (resolved.kind === 'missing' && resolved.via.length > 0) {
    throw new DeliveryInputError(
      `${what} ${given} is a symlink (${resolved.via.join(', ')}) to ${resolved.path}, which does not exist`,
      'fix the symlink, or point the option at the real file',
    );
  }
  return resolved;
}

/** Resolve a path that must be a folder (or not exist yet); a file there is refused as such. */
export async function resolveWorkspaceDir(given: string, what: string, lookup: PathLookup): Promise<ResolvedPath> {
  const resolved = await resolveWorkspacePath(given, what, lookup);
  if (resolved.kind === 'file') {
    throw new DeliveryInputError(`${what} '${given}' is a file, not a folder`, `give the folder that holds the files`);
  }
  return resolved;
}

/** Look paths up in a working tree. */
export async function workingTreeLookup(root: string): Promise<PathLookup> {
  const absolute = path.resolve(root);
  const real = await fs.realpath(absolute).catch(() => absolute);
  return {
    roots: [...new Set([absolute, real])],
    entry: async (p) => {
      const full = path.join(absolute, ...p.split('/'));
      const stat = await fs.lstat(full).catch(() => undefined);
      if (!stat) return { kind: 'missing' };
      if (stat.isSymbolicLink()) return { kind: 'symlink', target: await fs.readlink(full) };
      return stat.isDirectory() ? { kind: 'dir' } : { kind: 'file' };
    },
  };
}

/** Look paths up in the tree of `commit` (git stores a symlink as a 120000 blob holding its target). */
export function commitTreeLookup(git: GitCli, commit: string, root: string): PathLookup {
  return {
    roots: [path.resolve(root)],
    entry: async (p) => {
      const r = await git.run(['ls-tree', '-z', commit, '--', p]);
      const line = r.code === 0 ? r.stdout.split('\0').find((l) => l.split('\t')[1] === p) : undefined;
      if (!line) return { kind: 'missing' };
      const mode = line.split(' ')[0];
      if (mode === '120000') return { kind: 'symlink', target: (await git.readFile(commit, p)) ?? '' };
      if (mode === '040000') return { kind: 'dir' };
      if (mode === '160000') return { kind: 'missing' };
      return { kind: 'file' };
    },
  };
}

/**
 * The bump's options with every path resolved inside the workspace: the overlays and holds
 * folders, the targets (a symlinked target becomes its real path), the hold file. Throws a
 * DeliveryInputError naming the option for a path that leaves the workspace or is of the wrong kind.
 */
export async function resolveBumpPaths<
  T extends { environment: string; targets?: ImageTarget[]; overlaysDir?: string; holdsDir?: string },
>(
  opts: T,
  lookup: PathLookup,
  defaults: { overlaysDir: string; holdsDir: string },
): Promise<T & { overlaysDir: string; holdsDir: string; targets?: ImageTarget[] }> {
  const overlays = await resolveWorkspaceDir(opts.overlaysDir ?? defaults.overlaysDir, '--overlays-dir', lookup);
  const holds = await resolveWorkspaceDir(opts.holdsDir ?? defaults.holdsDir, '--holds-dir', lookup);
  const holdFile = await resolveWorkspaceFile(
    join(holds.path, `${opts.environment}.json`),
    `the hold file of '${opts.environment}'`,
    lookup,
  );
  if (holdFile.kind !== 'missing' && holdFile.path !== join(holds.path, `${opts.environment}.json`)) {
    throw new DeliveryInputError(
      `the hold file ${holds.path}/${opts.environment}.json is a symlink (${holdFile.via.join(', ')}); the bump writes hold files only as regular files`,
      `replace the symlink by the file itself (cp --remove-destination "$(readlink -f ${holds.path}/${opts.environment}.json)" ${holds.path}/${opts.environment}.json)`,
    );
  }
  let targets: ImageTarget[] | undefined;
  if (opts.targets) {
    targets = [];
    for (const [i, t] of opts.targets.entries()) {
      const r = await resolveWorkspaceFile(t.file, `targets[${i}].file`, lookup);
      targets.push({ ...t, file: r.path });
    }
  } else {
    const file = join(overlays.path, `${opts.environment}/kustomization.yaml`);
    const r = await resolveWorkspaceFile(file, `the ${opts.environment} overlay`, lookup);
    // A symlinked overlay is bumped at its target; a missing one keeps the default (its error lists the environments).
    if (r.path !== file) targets = [{ kind: 'kustomize', file: r.path }];
  }
  return { ...opts, overlaysDir: overlays.path || '.', holdsDir: holds.path || '.', targets };
}
