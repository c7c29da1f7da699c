import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The service bundle (esbuild, thirdParty) holds all pure-JS code, workspace libs included. What it
 * cannot hold (WASM/data files, native addons) stays `external` and is installed in the image with
 * `npm ci --omit=dev`. This module writes the package.json and the lockfile pruned to exactly those
 * externals and their transitive dependencies, taken from the workspace lockfile (so the image gets
 * the versions the workspace tested).
 */
export interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  peer?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

export interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion: number;
  requires?: boolean;
  packages: Record<string, LockEntry>;
}

export class RuntimeManifestError extends Error {}

/** npm's lookup: the nearest node_modules/<name> walking up from the dependent's location. */
export function resolveLocation(packages: Lockfile['packages'], from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const cut = base.lastIndexOf('/node_modules/');
    base = cut < 0 ? '' : base.slice(0, cut);
  }
}

export function tarballUrl(registry: string, name: string, version: string): string {
  const base = registry.endsWith('/') ? registry : `${registry}/`;
  const file = `${name.split('/').pop()}-${version}.tgz`;
  return `${base}${name}/-/${file}`;
}

export interface RuntimeManifestInput {
  rootLock: Lockfile;
  /** package.json name and version for the pruned manifest. */
  name: string;
  version: string;
  /** Packages left out of the bundle. */
  externals: readonly string[];
  /** Registry base for `resolved` when the workspace lockfile omits it (npm's omit-lockfile-registry-resolved). */
  registry: string;
}

export interface RuntimeManifest {
  packageJson: { name: string; version: string; private: true; dependencies: Record<string, string> };
  lockfile: Lockfile;
  /** Externals that are not installed in the workspace (optional peers such as pg-native): nothing to ship. */
  skipped: string[];
}

export function pruneToExternals(input: RuntimeManifestInput): RuntimeManifest {
  const source = input.rootLock.packages;
  if (input.rootLock.lockfileVersion < 2 || !source) {
    throw new RuntimeManifestError(
      'The workspace package-lock.json must be lockfileVersion 2 or 3: run npm install with npm 7 or newer.',
    );
  }
  const dependencies: Record<string, string> = {};
  const skipped: string[] = [];
  const packages: Lockfile['packages'] = {};
  const queue: string[] = [];
  for (const name of input.externals) {
    const location = resolveLocation(source, '', name);
    const entry = location ? source[location] : undefined;
    if (!location || !entry) {
      skipped.push(name);
      continue;
    }
    if (entry.link) {
      throw new RuntimeManifestError(
        `External "${name}" is a workspace package: workspace libs are bundled, remove it from the build target's "external" list.`,
      );
    }
    dependencies[name] = entry.version as string;
    queue.push(location);
  }
  while (queue.length > 0) {
    const location = queue.shift() as string;
    if (packages[location]) continue;
    const entry = source[location] as LockEntry;
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const copy: LockEntry = { ...entry };
    delete copy.dev;
    delete copy.devOptional;
    delete copy.peer;
    if (!copy.resolved && copy.version) copy.resolved = tarballUrl(input.registry, name, copy.version);
    packages[location] = copy;
    const required = { ...(entry.dependencies ?? {}) };
    for (const [peer, range] of Object.entries(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[peer]?.optional) required[peer] = range;
    }
    for (const dep of Object.keys(required)) {
      const found = resolveLocation(source, location, dep);
      if (!found)
        throw new RuntimeManifestError(
          `The workspace lockfile has no entry for ${dep}, needed by ${name}: run npm install to repair package-lock.json.`,
        );
      queue.push(found);
    }
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      const found = resolveLocation(source, location, dep);
      if (found) queue.push(found);
    }
  }
  const sorted: Lockfile['packages'] = { '': { name: input.name, version: input.version, dependencies } };
  for (const key of Object.keys(packages).sort()) sorted[key] = packages[key] as LockEntry;
  return {
    packageJson: { name: input.name, version: input.version, private: true, dependencies },
    lockfile: { name: input.name, version: input.version, lockfileVersion: 3, requires: true, packages: sorted },
    skipped,
  };
}

/** Path of a tarball inside an npm (cacache) cache, addressed by its integrity. */
export function cacachePath(cacheRoot: string, integrity: string): string {
  const [algorithm, base64] = integrity.split(' ')[0]?.split('-') ?? [];
  if (!algorithm || !base64) throw new RuntimeManifestError(`Unusable integrity "${integrity}".`);
  const hex = Buffer.from(base64, 'base64').toString('hex');
  return join(cacheRoot, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

/**
 * Copy every tarball of the pruned lockfile from the host's npm cache into `offlineCache`, so the image
 * build runs `npm ci --offline` with no network (hermetic and the same on every machine). npm reads
 * tarballs from the cache by integrity; no index entries are needed.
 */
export function copyOfflineTarballs(
  lockfile: Lockfile,
  hostCache: string,
  offlineCache: string,
): { copied: string[]; missing: string[] } {
  const copied: string[] = [];
  const missing: string[] = [];
  for (const [location, entry] of Object.entries(lockfile.packages)) {
    if (!location || !entry.integrity) continue;
    const from = cacachePath(hostCache, entry.integrity);
    if (!existsSync(from)) {
      missing.push(location);
      continue;
    }
    const to = cacachePath(offlineCache, entry.integrity);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    copied.push(location);
  }
  return { copied, missing };
}
