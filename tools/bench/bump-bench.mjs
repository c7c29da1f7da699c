#!/usr/bin/env node
// Bump benchmark: one generated overlay with N services (default 100), every image bumped at once.
// Prints the time of (1) planning + atomic write without git, (2) the full bump: plumbing commit +
// push to a local bare remote, (3) a second, no-op bump ("up to date"); and how many bytes of the
// file changed against its size (everything else must stay byte-identical).
// Then (4) the bump's property test (tools/delivery/src/lib/manifests/bump-property.ts) with a larger
// budget than CI's: random kustomizations and Helm values files, random images, `kubectl kustomize`
// on every Nth kustomization.
//   node tools/bench/bump-bench.mjs [--services=100] [--property-runs=3000] [--property-seed=<n>] [--kubectl-every=5]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(join(root, 'package.json'));
const esbuild = require('esbuild');
const count = Number((process.argv.find((a) => a.startsWith('--services=')) ?? '--services=100').split('=')[1]);
if (!Number.isInteger(count) || count < 1 || count > 10_000) {
  console.error(`--services must be an integer in 1..10000, got ${count}`);
  process.exit(2);
}

const intOption = (name, fallback) => {
  const raw = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = raw === undefined ? fallback : Number(raw.split('=')[1]);
  if (!Number.isInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer, got ${raw}`);
    process.exit(2);
  }
  return value;
};
const propertyRuns = intOption('property-runs', 3000);
const propertySeed = intOption('property-seed', Date.now() % 2 ** 31);
const kubectlEvery = Math.max(1, intOption('kubectl-every', 5));

const work = mkdtempSync(join(tmpdir(), 'slipway-bump-bench-'));
try {
  const lib = join(work, 'apply-bump.cjs');
  esbuild.buildSync({
    entryPoints: [join(root, 'tools/delivery/src/lib/gitops/apply-bump.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: lib,
    logLevel: 'silent',
  });
  const { applyBump } = require(lib);

  const hex = (i, c) => `sha256:${(c + i.toString(16)).padStart(64, '0').slice(-64)}`;
  const services = Array.from({ length: count }, (_, i) => `service-${String(i).padStart(3, '0')}`);
  const overlay = [
    '# generated overlay for the bump benchmark: comments, blank lines and quoting must survive',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    'namespace: bench',
    '',
    'images:',
    ...services.flatMap((s, i) => [
      `  # ${s}: owned by team ${i % 7}`,
      `  - name: slipway/${s}`,
      i % 3 === 0
        ? `    newName: "registry.example.com/slipway/${s}"`
        : `    newName: registry.example.com/slipway/${s}`,
      `    newTag: h-${'0'.repeat(12)}   # initial`,
      `    digest: ${hex(i, 'a')}`,
      '',
    ]),
  ].join('\n');
  const file = 'deploy/k8s/overlays/bench/kustomization.yaml';
  const git = (cwd, ...args) =>
    execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
      .toString()
      .trim();
  const bare = join(work, 'remote.git');
  const repo = join(work, 'repo');
  git(work, 'init', '--quiet', '--bare', '-b', 'main', bare);
  git(work, 'init', '--quiet', '-b', 'main', repo);
  git(repo, 'config', 'user.name', 'bench');
  git(repo, 'config', 'user.email', 'bench@localhost');
  mkdirSync(join(repo, dirname(file)), { recursive: true });
  writeFileSync(join(repo, file), overlay);
  git(repo, 'add', '-A');
  git(repo, 'commit', '--quiet', '-m', 'chore: bench overlay');
  git(repo, 'remote', 'add', 'origin', bare);
  git(repo, 'push', '--quiet', 'origin', 'main');

  const changesFor = (c) =>
    services.map((s, i) => ({
      project: s,
      reference: { repository: `registry.example.com/slipway/${s}`, tag: `h-${c.repeat(12)}`, digest: hex(i, c) },
    }));

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const REPEATS = 5;

  // (1) plan + all-or-nothing write, no git (first run warms up the JIT; median of the rest)
  const writeTimes = [];
  let filesOnly;
  for (let r = 0; r <= REPEATS; r++) {
    const t = performance.now();
    filesOnly = await applyBump({
      workspaceRoot: repo,
      environment: 'bench',
      changes: changesFor('b'),
      git: { commit: false },
    });
    if (r > 0) writeTimes.push(performance.now() - t);
    git(repo, 'checkout', '--quiet', '--', file);
  }

  // (2) full bump: commit with trailers + push to the bare remote, alternating two reference sets
  const fullTimes = [];
  let full;
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    full = await applyBump({ workspaceRoot: repo, environment: 'bench', changes: changesFor(r % 2 === 0 ? 'd' : 'c') });
    fullTimes.push(performance.now() - t);
  }

  // (3) the same bump again: up to date, no commit
  const noopTimes = [];
  let noop;
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    noop = await applyBump({ workspaceRoot: repo, environment: 'bench', changes: changesFor('d') });
    noopTimes.push(performance.now() - t);
  }
  const writeMs = median(writeTimes);
  const fullMs = median(fullTimes);
  const noopMs = median(noopTimes);

  const after = readFileSync(join(repo, file), 'utf8');
  const before = overlay.split('\n');
  const now = after.split('\n');
  if (before.length !== now.length) throw new Error('line count changed: the bump reformatted the file');
  let changedBytes = 0;
  let changedLines = 0;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === now[i]) continue;
    changedLines++;
    let p = 0;
    while (p < before[i].length && before[i][p] === now[i][p]) p++;
    let s = 0;
    while (s < before[i].length - p && before[i][before[i].length - 1 - s] === now[i][now[i].length - 1 - s]) s++;
    changedBytes += Math.max(before[i].length - p - s, now[i].length - p - s);
  }
  const untouched = before.every((l, i) => l === now[i] || /^\s{4}(newTag|digest):/.test(l));
  const size = Buffer.byteLength(overlay);
  console.log(
    `bump benchmark: ${count} services in one overlay (${size} bytes, ${before.length} lines); medians of ${REPEATS} runs, load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
  );
  console.log(
    `  plan + atomic write (no git):        ${writeMs.toFixed(0)} ms (${filesOnly.images.filter((i) => i.changed).length} images changed)`,
  );
  console.log(
    `  full bump (commit + push to bare):   ${fullMs.toFixed(0)} ms, ${full.pushAttempts} push attempt(s), commit ${full.commit.slice(0, 12)}`,
  );
  console.log(`  no-op bump ("up to date"):           ${noopMs.toFixed(0)} ms (changed: ${noop.changed})`);
  console.log(
    `  bytes changed: ${changedBytes} of ${size} (${((100 * changedBytes) / size).toFixed(1)}%) on ${changedLines} lines; every other line byte-identical: ${untouched}`,
  );
  console.log(`  commit header: ${git(repo, 'log', '-1', '--format=%s')}`);

  if (propertyRuns > 0) {
    const propertyLib = join(work, 'bump-property.cjs');
    esbuild.buildSync({
      entryPoints: [join(root, 'tools/delivery/src/lib/manifests/bump-property.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: propertyLib,
      logLevel: 'silent',
    });
    const { runBumpProperty } = require(propertyLib);
    const stats = await runBumpProperty({ seed: propertySeed, numRuns: propertyRuns, kubectlEvery });
    console.log(
      `  property test (seed ${propertySeed}): ${stats.cases} generated files bumped and checked in ${(stats.ms / 1000).toFixed(1)} s ` +
        `(${((1000 * stats.cases) / stats.ms).toFixed(0)} files/s); kubectl kustomize on ${stats.kubectlRuns}; ` +
        `${stats.nonUtf8Cases} with non-UTF-8 comment bytes, ${stats.crlfCases} CRLF; failures: 0`,
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
