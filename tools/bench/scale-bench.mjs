#!/usr/bin/env node
// Scale benchmark (prints figures; not a test). In two temporary clones of this repository
// (committed HEAD; node_modules linked, @slipway/* to the clone's own packages), generates 3 and 200
// services with the service generator, then measures at each size, in this one run:
//   1. project graph computation: `nx show projects` after `nx reset`, daemon off   (goal ≤ 1.3× at 200/3)
//   2. `nx show projects --affected` for a one-service change                       (goal ≤ 1.3×)
//   3. cold `nx affected -t lint test build` for that change (own empty cache)
//   4. `nx run deploy:validate` (every overlay rendered and checked)                 (goal: linear at most)
// and prints each figure with the ratio 200/3. Everything lives in the clones, removed at the end.
//   node tools/bench/scale-bench.mjs [--sizes=3,200] [--keep]
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const sizes = (process.argv.find((a) => a.startsWith('--sizes='))?.slice(8) ?? '3,200').split(',').map(Number);
const keep = process.argv.includes('--keep');
if (sizes.length < 2 || !sizes.every((n) => Number.isInteger(n) && n > 0)) {
  console.error('--sizes must be two or more positive integers, e.g. --sizes=3,200');
  process.exit(2);
}

function linkNodeModules(source, clone) {
  const from = join(source, 'node_modules');
  const to = join(clone, 'node_modules');
  mkdirSync(to);
  for (const entry of readdirSync(from)) {
    if (entry === '.cache') continue;
    if (entry === '@slipway') {
      mkdirSync(join(to, entry));
      for (const pkg of readdirSync(join(from, entry)))
        symlinkSync(readlinkSync(join(from, entry, pkg)), join(to, entry, pkg));
      continue;
    }
    symlinkSync(join(from, entry), join(to, entry));
  }
}

function run(cwd, env, command, args) {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) {
    console.error(`${command} ${args.join(' ')} exited ${r.status}\n${(r.stdout + r.stderr).slice(-4000)}`);
    process.exit(1);
  }
  return { seconds, stdout: r.stdout };
}

const tmp = mkdtempSync(join(tmpdir(), 'slipway-scale-bench-'));
const figures = {};
try {
  for (const size of sizes) {
    const repo = join(tmp, `repo-${size}`);
    const env = {
      ...process.env,
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_CACHE_DIRECTORY: join(tmp, `nx-cache-${size}`),
      NX_WORKSPACE_DATA_DIRECTORY: join(tmp, `nx-data-${size}`),
      GIT_AUTHOR_NAME: 'Slipway Bench',
      GIT_AUTHOR_EMAIL: 'bench@slipway.invalid',
      GIT_COMMITTER_NAME: 'Slipway Bench',
      GIT_COMMITTER_EMAIL: 'bench@slipway.invalid',
      FORCE_COLOR: '0',
      HUSKY: '0',
    };
    delete env.NX_INVOCATION_ROOT_PID;
    delete env.NX_BASE;
    delete env.NX_HEAD;
    run(tmp, env, 'git', ['clone', '--quiet', '--no-hardlinks', root, repo]);
    linkNodeModules(root, repo);
    const nx = (...args) => run(repo, env, process.execPath, [join(repo, 'node_modules/nx/dist/bin/nx.js'), ...args]);
    const generated = run(repo, env, process.execPath, [
      '-r',
      '@swc-node/register',
      'tools/bench/lib/generate-services.ts',
      String(size),
    ]);
    run(repo, env, 'npm', ['install', '--package-lock-only', '--offline', '--no-audit', '--no-fund']);
    run(repo, env, 'git', ['add', '-A']);
    run(repo, env, 'git', ['commit', '--quiet', '--no-verify', '-m', `chore: ${size} generated services`]);
    const projects = nx('show', 'projects').stdout.split('\n').filter(Boolean).length;

    nx('reset');
    const graph = nx('show', 'projects');
    // A one-service change: the first generated service's example route.
    const changed = 'apps/svc-001/src/app/items-routes.ts';
    writeFileSync(join(repo, changed), `${readFileSync(join(repo, changed), 'utf8')}// bench: one-service change\n`);
    run(repo, env, 'git', ['commit', '--quiet', '--no-verify', '-am', 'fix(svc-001): bench change']);
    const affectedList = nx('show', 'projects', '--affected', '--base=HEAD~1', '--head=HEAD');
    const affected = affectedList.stdout.split('\n').filter(Boolean);
    const cold = nx('affected', '-t', 'lint', 'test', 'build', '--base=HEAD~1', '--head=HEAD', '--outputStyle=static');
    const validate = nx('run', 'deploy:validate', '--skip-nx-cache', '--outputStyle=static');
    figures[size] = {
      projects,
      generateSeconds: generated.seconds,
      graphSeconds: graph.seconds,
      affectedSeconds: affectedList.seconds,
      affected: affected.join(','),
      coldAffectedSeconds: cold.seconds,
      validateSeconds: validate.seconds,
    };
    console.log(`size ${size}: ${JSON.stringify(figures[size])}`);
  }
} finally {
  if (!keep) rmSync(tmp, { recursive: true, force: true, maxRetries: 5, retryDelay: 500 });
}

const [small, large] = [sizes[0], sizes[sizes.length - 1]];
const rows = [
  ['projects in the graph', 'projects', ''],
  ['project graph (nx reset, daemon off)', 'graphSeconds', '≤ 1.3×'],
  ['nx show projects --affected (one service)', 'affectedSeconds', '≤ 1.3×'],
  ['cold nx affected -t lint test build', 'coldAffectedSeconds', ''],
  ['deploy:validate', 'validateSeconds', `linear: ≤ ${(large / small).toFixed(0)}×`],
];
console.log(`\n| figure | ${small} services | ${large} services | ratio ${large}/${small} | goal |`);
console.log('|---|---|---|---|---|');
for (const [label, key, goal] of rows) {
  const a = figures[small][key];
  const b = figures[large][key];
  const fmt = (v) => (key === 'projects' ? String(v) : `${v.toFixed(2)} s`);
  console.log(`| ${label} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)}× | ${goal} |`);
}
console.log(`affected at ${large}: ${figures[large].affected}`);
