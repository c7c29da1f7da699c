#!/usr/bin/env node
// Every check and every test of the workspace, for `npm run test:all` (README command (2), .ci/run):
//   1. nx format:check --all       2. nx sync:check
//   3. nx run-many -t lint typecheck test build integration   (all projects)
//   4. the cluster tier: tools/scripts/cluster.sh start, nx run-many -t cluster, cluster.sh stop
//      (this machine's real Kubernetes; only while that tier runs, and stopped whatever happens)
//   5. nx run-many -t e2e -- --reporter=list,json             (Playwright, JSON report per project)
// then ONE line alone: `tests: N passed, N failed[, N skipped]`, the sum of test cases over every
// Jest run (from the results files jest.preset.js's reporter writes) and every Playwright run.
// e2e is a separate run-many only because Playwright's reporter flag must not reach the other targets.
// Exit status: 0 only when every step succeeded, no test failed and every test target reported.
//
//   node tools/scripts/test-all.mjs [--parallel=N]     (default 2: the CI machines have 2 cores)
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { countJest, countPlaywright, sumCounts, summaryLine } = require('./lib/test-results.cjs');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PLAYWRIGHT_RESULTS = 'test-output/playwright/results.json';
const JEST_RESULTS_DIR = 'test-output/jest';

function parseArgs(argv) {
  let parallel = 2;
  for (const arg of argv) {
    const match = /^--parallel=(\d+)$/.exec(arg);
    if (match && Number(match[1]) >= 1) {
      parallel = Number(match[1]);
    } else {
      console.error(
        `test-all: unknown argument "${arg}". Usage: node tools/scripts/test-all.mjs [--parallel=N] (N >= 1)`,
      );
      process.exit(2);
    }
  }
  return { parallel };
}

function run(label, command, args, extraEnv = {}) {
  console.log(`\n=== test-all: ${label}: ${[command, ...args].join(' ')}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        NX_DAEMON: process.env.NX_DAEMON ?? 'false',
        NX_NO_CLOUD: 'true',
        ...extraEnv,
      },
    });
    const forward = (signal) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('close', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const ok = code === 0;
      console.log(`=== test-all: ${label}: ${ok ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`} in ${seconds}s`);
      resolve({ label, ok, seconds });
    });
  });
}

function isJestTarget(target) {
  const command = String(target.options?.command ?? '');
  return (
    target.executor === '@nx/jest:jest' ||
    (target.metadata?.technologies ?? []).includes('jest') ||
    /(^|\s)(npx\s+)?jest(\s|$)/.test(command)
  );
}

function isPlaywrightTarget(target) {
  return (target.metadata?.technologies ?? []).includes('playwright');
}

/** Which projects should report Jest/Playwright results, from the project graph. */
async function testTargets() {
  const { createProjectGraphAsync } = require('@nx/devkit');
  const graph = await createProjectGraphAsync({ exitOnError: true });
  const projects = [];
  for (const node of Object.values(graph.nodes)) {
    const targets = node.data.targets ?? {};
    const jest = ['test', 'integration', 'cluster'].filter((name) => targets[name] && isJestTarget(targets[name]));
    const playwright = targets.e2e && isPlaywrightTarget(targets.e2e);
    if (jest.length > 0 || playwright) {
      projects.push({
        name: node.name,
        root: node.data.root,
        jest,
        playwright,
      });
    }
  }
  return projects.sort((a, b) => a.name.localeCompare(b.name));
}

function jestResultFiles(projectRoot) {
  const dir = path.join(root, projectRoot, JEST_RESULTS_DIR);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => /^results-.*\.json$/.test(file))
    .map((file) => path.join(dir, file));
}

/** Results of an earlier run must not be counted again: remove them before anything runs. */
function removeOldResults(projects) {
  for (const project of projects) {
    for (const file of jestResultFiles(project.root)) rmSync(file, { force: true });
    rmSync(path.join(root, project.root, PLAYWRIGHT_RESULTS), { force: true });
  }
}

function collect(projects) {
  const rows = [];
  const problems = [];
  for (const project of projects) {
    const files = jestResultFiles(project.root);
    for (const file of files) {
      try {
        rows.push({
          source: `${project.name} (jest ${path.basename(file, '.json').slice('results-'.length)})`,
          ...countJest(JSON.parse(readFileSync(file, 'utf8'))),
        });
      } catch (error) {
        problems.push(`${path.relative(root, file)}: ${error.message}`);
      }
    }
    // Each Jest target writes its own results-<displayName>.json; fewer files than targets means a
    // target did not run, its config replaced the preset's reporters, or two configs share a displayName.
    if (files.length < project.jest.length) {
      problems.push(
        `${project.name}: ${project.jest.length} Jest target(s) (${project.jest.join(', ')}) but ${files.length} results file(s) in ${project.root}/${JEST_RESULTS_DIR}. ` +
          `A target that ran must keep jest.preset.js's reporters and a displayName of its own.`,
      );
    }
    if (project.playwright) {
      const file = path.join(root, project.root, PLAYWRIGHT_RESULTS);
      if (existsSync(file)) {
        try {
          rows.push({
            source: `${project.name} (playwright)`,
            ...countPlaywright(JSON.parse(readFileSync(file, 'utf8'))),
          });
        } catch (error) {
          problems.push(`${path.relative(root, file)}: ${error.message}`);
        }
      } else {
        problems.push(
          `${project.name}: the e2e run left no Playwright report at ${project.root}/${PLAYWRIGHT_RESULTS}.`,
        );
      }
    }
  }
  return { rows, problems };
}

async function main() {
  const { parallel } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const projects = await testTargets();
  removeOldResults(projects);

  const steps = [];
  steps.push(await run('format', 'npx', ['nx', 'format:check', '--all']));
  steps.push(await run('sync', 'npx', ['nx', 'sync:check']));
  steps.push(
    await run('tasks', 'npx', [
      'nx',
      'run-many',
      '-t',
      'lint',
      'typecheck',
      'test',
      'build',
      'integration',
      '--outputStyle=static',
      `--parallel=${parallel}`,
    ]),
  );
  if (projects.some((p) => p.jest.includes('cluster'))) {
    const start = await run('cluster start', 'bash', ['tools/scripts/cluster.sh', 'start']);
    steps.push(start);
    if (start.ok) {
      steps.push(
        await run('cluster tier', 'npx', ['nx', 'run-many', '-t', 'cluster', '--outputStyle=static', '--parallel=1']),
      );
    }
    steps.push(await run('cluster stop', 'bash', ['tools/scripts/cluster.sh', 'stop']));
  }
  if (projects.some((p) => p.playwright)) {
    steps.push(
      await run(
        'e2e',
        'npx',
        ['nx', 'run-many', '-t', 'e2e', '--outputStyle=static', '--parallel=1', '--', '--reporter=list,json'],
        // Relative to each e2e project's folder (the target's working directory).
        { PLAYWRIGHT_JSON_OUTPUT_FILE: PLAYWRIGHT_RESULTS },
      ),
    );
  }

  const { rows, problems } = collect(projects);
  const total = sumCounts(rows);
  const failedSteps = steps.filter((s) => !s.ok);

  console.log('\n=== test-all: summary');
  for (const step of steps) console.log(`  ${step.ok ? 'ok    ' : 'FAILED'} ${step.label} (${step.seconds}s)`);
  for (const row of rows) console.log(`  ${row.source}: ${summaryLine(row).slice('tests: '.length)}`);
  for (const problem of problems) console.log(`  missing results: ${problem}`);
  console.log(`  wall time ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(summaryLine(total));

  process.exit(failedSteps.length === 0 && total.failed === 0 && problems.length === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(`test-all: ${error.stack ?? error}`);
  process.exit(1);
});
