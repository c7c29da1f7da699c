/**
 * Writes <outputPath>/package.json, package-lock.json and .npm-offline/ for a bundled Node service.
 * Run by the services' `prune-lockfile` target:
 *   node -r @swc-node/register tools/delivery/src/lib/image/runtime-manifest.cli.ts apps/catalog [buildTarget]
 * The externals come from the project's build target (`external`, default target `build`), the versions
 * from the workspace lockfile.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Lockfile, copyOfflineTarballs, pruneToExternals } from './runtime-manifest';

function main(): void {
  const projectRoot = process.argv[2];
  const buildTarget = process.argv[3] ?? 'build';
  if (!projectRoot)
    throw new Error('Usage: runtime-manifest.cli.ts <projectRoot> [buildTarget] (e.g. apps/catalog build)');
  const workspaceRoot = process.cwd();
  const pkg = JSON.parse(readFileSync(join(workspaceRoot, projectRoot, 'package.json'), 'utf8'));
  const build = pkg.nx?.targets?.[buildTarget]?.options ?? {};
  if (!build.outputPath)
    throw new Error(`${projectRoot}/package.json: nx.targets.${buildTarget}.options.outputPath is not set.`);
  const outputPath = resolve(workspaceRoot, build.outputPath);
  const rootLock = JSON.parse(readFileSync(join(workspaceRoot, 'package-lock.json'), 'utf8')) as Lockfile;
  const registry = process.env['npm_config_registry'] || 'https://registry.npmjs.org/';
  const manifest = pruneToExternals({
    rootLock,
    name: pkg.name,
    version: pkg.version,
    externals: build.external ?? [],
    registry,
  });
  mkdirSync(outputPath, { recursive: true });
  writeFileSync(join(outputPath, 'package.json'), `${JSON.stringify(manifest.packageJson, null, 2)}\n`);
  writeFileSync(join(outputPath, 'package-lock.json'), `${JSON.stringify(manifest.lockfile, null, 2)}\n`);
  const offline = join(outputPath, '.npm-offline');
  rmSync(offline, { recursive: true, force: true });
  const hostCache = process.env['npm_config_cache'] || join(homedir(), '.npm');
  let result = copyOfflineTarballs(manifest.lockfile, hostCache, offline);
  if (result.missing.length > 0) {
    // Not in the host cache yet (fresh machine): let npm fetch them into it once, then copy.
    for (const location of result.missing) {
      const entry = manifest.lockfile.packages[location];
      const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
      execFileSync('npm', ['cache', 'add', `${name}@${entry?.version}`], { stdio: 'inherit' });
    }
    result = copyOfflineTarballs(manifest.lockfile, hostCache, offline);
    if (result.missing.length > 0)
      throw new Error(`Tarballs missing from the npm cache ${hostCache}: ${result.missing.join(', ')}`);
  }
  mkdirSync(offline, { recursive: true });
  console.log(
    `runtime manifest: ${Object.keys(manifest.packageJson.dependencies).join(', ') || '(no external packages)'}` +
      `${manifest.skipped.length ? `; not installed, skipped: ${manifest.skipped.join(', ')}` : ''}; ${result.copied.length} tarball(s) for offline npm ci`,
  );
}

try {
  main();
} catch (error) {
  console.error(`runtime manifest: ${(error as Error).message}`);
  process.exit(1);
}
