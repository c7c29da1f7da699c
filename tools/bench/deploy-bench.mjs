#!/usr/bin/env node
// Deploy benchmark (prints figures; not a test). Runs `nx run deploy:local` for real in a temporary
// clone of this repository (committed HEAD; node_modules linked, @slipway/* to the clone's own packages) with its own registry, ports and
// pod names, then measures:
//   1. a no-change deploy:local: wall time and images built        (goal: 0 builds, ≤ 5 s)
//   2. a one-service change (catalog) deploy:local, end to end      (goal: ≤ 90 s)
//   3. a failed smoke (catalog never ready) → previous version answering again (goal: ≤ 30 s),
//      timed from the moment the release reports the failure to the first /health that shows the
//      previous version again.
// Everything it starts (pods, registry) is stopped at the end; the clone is removed.
//   node tools/bench/deploy-bench.mjs [--registry-port=3692] [--ports=3621,3622,3623] [--projects=catalog,orders,web] [--keep]
//
// --cluster: the same clone released with `nx run deploy:cluster` (kubectl mode) to this machine's
// Kubernetes (start it first: bash tools/scripts/cluster.sh start; its registry, NodePorts 30101/30102/30300):
//   1. a no-change deploy:cluster                                   (goal: ≤ 5 s)
//   2. a catalog that exits at start on a config error: apply → fail verdict (the release record's
//      apply stage, which ends when the rollout wait reads the failing pod; goal ≤ 15 s), and apply →
//      previous version verified again (apply stage + the rollback's own record; goal ≤ 45 s), while a
//      poller checks that catalog's /health never stopped answering the previous version.
//   node tools/bench/deploy-bench.mjs --cluster [--keep]
import { spawn, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const arg = (name, fallback) =>
  process.argv
    .find((a) => a.startsWith(`--${name}=`))
    ?.split('=')
    .slice(1)
    .join('=') ?? fallback;
const registry = `127.0.0.1:${arg('registry-port', '3692')}`;
const [catalogPort, ordersPort, webPort] = arg('ports', '3621,3622,3623').split(',').map(Number);
const projects = arg('projects', undefined);
const keep = process.argv.includes('--keep');
const cluster = process.argv.includes('--cluster');
const clusterEnvFile = join(root, '.local/cluster/env');
if (cluster) {
  try {
    readFileSync(clusterEnvFile, 'utf8');
  } catch {
    console.error(
      `--cluster needs this machine's cluster: ${clusterEnvFile} is missing. Start it: bash tools/scripts/cluster.sh start`,
    );
    process.exit(2);
  }
}
if (![catalogPort, ordersPort, webPort].every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
  console.error('--ports must be three ports: catalog,orders,web (e.g. 3621,3622,3623)');
  process.exit(2);
}
const isFree = (port) =>
  new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
for (const port of cluster ? [] : [Number(registry.split(':')[1]), catalogPort, ordersPort, webPort]) {
  if (!(await isFree(port))) {
    console.error(
      `port ${port} is in use on 127.0.0.1: pick free ones with --registry-port=<p> --ports=<catalog>,<orders>,<web>`,
    );
    process.exit(2);
  }
}
const instance = `slipway-bench-${process.pid.toString(16)}`;
const tmp = mkdtempSync(join(tmpdir(), 'slipway-deploy-bench-'));
const repo = join(tmp, 'repo');
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^NX_(TASK_|TERMINAL_|STREAM_OUTPUT|PREFIX_OUTPUT|FORKED_)/.test(k)),
);
Object.assign(env, {
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  NX_CACHE_DIRECTORY: join(tmp, 'nx-cache'),
  NX_WORKSPACE_DATA_DIRECTORY: join(tmp, 'nx-data'),
  GIT_AUTHOR_NAME: 'Slipway Bench',
  GIT_AUTHOR_EMAIL: 'bench@slipway.invalid',
  GIT_COMMITTER_NAME: 'Slipway Bench',
  GIT_COMMITTER_EMAIL: 'bench@slipway.invalid',
  FORCE_COLOR: '0',
});
delete env.SLIPWAY_WEBHOOK_URL;
// Each deploy:local here is a top-level invocation, as from a terminal.
delete env.NX_INVOCATION_ROOT_PID;
delete env.GITHUB_STEP_SUMMARY;
const overrides = cluster
  ? [`--clusterEnv=${clusterEnvFile}`, '--smokeK6=false', '--smokePlaywright=false', '--imageParallel=1']
  : [
      `--registry=${registry}`,
      `--ports=catalog=${catalogPort},orders=${ordersPort},web=${webPort}`,
      `--instance=${instance}`,
      ...(projects ? [`--projects=${projects}`] : []),
      '--smokeK6=false',
      '--smokePlaywright=false',
    ];
const target = cluster ? 'deploy:cluster' : 'deploy:local';
const environment = cluster ? 'cluster' : 'local';
const catalogUrl = cluster ? 'http://127.0.0.1:30101' : `http://127.0.0.1:${catalogPort}`;

const git = (...args) => {
  const r = spawnSync('git', args, { cwd: repo, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout.trim();
};

/** Run deploy:local. `readinessMs`: PGlite's start takes 20-60 s on a loaded two-core machine; a broken release waits less. */
function deploy(readinessMs = 180_000) {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        join(repo, 'node_modules/nx/dist/bin/nx.js'),
        'run',
        target,
        '--outputStyle=static',
        ...overrides,
        `--smokeReadinessTimeoutMs=${readinessMs}`,
      ],
      { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const feed = (chunk) => (output += chunk);
    child.stdout.setEncoding('utf8').on('data', feed);
    child.stderr.setEncoding('utf8').on('data', feed);
    child.on('close', (code) => done({ code: code ?? 1, output, ms: performance.now() - started }));
  });
}

async function healthVersion() {
  try {
    const r = await fetch(`${catalogUrl}/health`, {
      signal: AbortSignal.timeout(1000),
    });
    return (await r.json()).version;
  } catch {
    return undefined;
  }
}

const builtOf = (output) => {
  const m = /images: built ([^;]+); reused/.exec(output);
  return !m || m[1].trim() === 'none' ? [] : m[1].split(',').map((s) => s.trim());
};
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const figures = [];
const failIf = (run, what) => {
  if (run.code !== 0) {
    console.error(`${what} failed (exit ${run.code}):\n${run.output.slice(-4000)}`);
    throw new Error(`${what} failed`);
  }
};

try {
  console.log(
    `cloning ${root} into ${repo} (registry ${registry}, ports ${catalogPort}/${ordersPort}/${webPort}, pods ${instance}-*)`,
  );
  const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', root, repo], { encoding: 'utf8' });
  if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
  // Every package linked from the workspace, except the workspace's own (@slipway/*): those link to the
  // clone's copies, so the clone builds its own libraries and never touches the developer's tree.
  mkdirSync(join(repo, 'node_modules'));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry === '.cache') continue;
    if (entry === '@slipway') {
      mkdirSync(join(repo, 'node_modules', entry));
      for (const pkg of readdirSync(join(root, 'node_modules', entry)))
        symlinkSync(readlinkSync(join(root, 'node_modules', entry, pkg)), join(repo, 'node_modules', entry, pkg));
    } else symlinkSync(join(root, 'node_modules', entry), join(repo, 'node_modules', entry));
  }

  console.log('0/3 initial deploy (cold: builds every image)…');
  const cold = await deploy();
  failIf(cold, 'the initial deploy');
  figures.push({
    figure: `cold ${target} (every image built)`,
    value: seconds(cold.ms),
    builds: builtOf(cold.output).length,
    goal: '-',
  });

  console.log(`1/3 no-change ${target}…`);
  const idle = await deploy();
  failIf(idle, 'the no-change deploy');
  figures.push({
    figure: `no-change ${target}`,
    value: seconds(idle.ms),
    builds: builtOf(idle.output).length,
    goal: '0 builds, ≤ 5 s',
    ok: builtOf(idle.output).length === 0 && idle.ms <= 5000,
  });

  console.log('2/3 one-service change (catalog)…');
  const pkg = join(repo, 'apps/catalog/package.json');
  writeFileSync(pkg, readFileSync(pkg, 'utf8').replace(/"version": "([^"]+)"/, '"version": "9.9.1"'));
  git('commit', '-qam', 'chore(catalog): benchmark version 9.9.1');
  const change = await deploy();
  failIf(change, 'the one-service deploy');
  const changedVersion = await healthVersion();
  figures.push({
    figure: `one-service change ${target} (catalog)`,
    value: seconds(change.ms),
    builds: builtOf(change.output).length,
    goal: '≤ 90 s',
    ok: change.ms <= 90_000 && changedVersion === '9.9.1',
  });

  console.log('3/3 failed smoke → automatic rollback…');
  // local: never ready (Redis on a closed port); cluster: exits at start on a config error.
  appendFileSync(
    join(repo, 'apps/catalog/Dockerfile'),
    cluster ? '\nENV RATE_LIMIT_MAX=lots\n' : '\nENV REDIS_URL=redis://127.0.0.1:9\n',
  );
  writeFileSync(pkg, readFileSync(pkg, 'utf8').replace('"version": "9.9.1"', '"version": "9.9.2"'));
  git('commit', '-qam', 'chore(catalog): benchmark broken 9.9.2');
  // Nx prints a task's output when it ends, so the failure moment comes from the history: the
  // automatic rollback's record starts when the failed smoke is decided. The poller notes when the
  // previous version (9.9.1) answers again after the broken one replaced it (wall clock).
  let sawOther = false;
  let answeringAt;
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const version = await healthVersion();
      if (version !== '9.9.1') sawOther = true;
      else if (sawOther && answeringAt === undefined) answeringAt = Date.now();
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const broken = await deploy(90_000);
  polling = false;
  await poller;
  const history = readFileSync(
    join(repo, `.local/deploy/${environment}/repo/deploy/history/${environment}.jsonl`),
    'utf8',
  )
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
  const rollback = history.filter((r) => r.kind === 'rollback').pop();
  const failedAt = rollback ? Date.parse(rollback.startedAt) : undefined;
  const recovered = failedAt !== undefined && answeringAt !== undefined ? answeringAt - failedAt : undefined;
  if (cluster) {
    const release = history.filter((r) => r.kind === 'release').pop();
    const applyMs = release?.stages?.apply;
    figures.push({
      figure: 'apply → fail verdict (crash at start, rollout wait)',
      value: applyMs === undefined ? 'not recorded' : seconds(applyMs),
      builds: builtOf(broken.output).length,
      goal: '≤ 15 s',
      ok: broken.code !== 0 && applyMs !== undefined && applyMs <= 15_000,
    });
    const restoredMs = applyMs !== undefined && rollback ? applyMs + rollback.durationMs : undefined;
    figures.push({
      figure: 'apply → previous version verified (rollback applied + smoke)',
      value: restoredMs === undefined ? 'not recorded' : seconds(restoredMs),
      builds: 0,
      goal: '≤ 45 s',
      ok: restoredMs !== undefined && restoredMs <= 45_000 && rollback?.result === 'succeeded',
    });
    figures.push({
      figure: '  (catalog answered the previous version throughout)',
      value: sawOther ? 'no' : 'yes',
      builds: 0,
      goal: '-',
    });
  } else {
    figures.push({
      figure: 'failed smoke → previous version answering',
      value: recovered === undefined ? 'not observed' : seconds(recovered),
      builds: builtOf(broken.output).length,
      goal: '≤ 30 s',
      ok: broken.code !== 0 && recovered !== undefined && recovered <= 30_000,
    });
  }
  figures.push({
    figure: `  (whole failing ${target} incl. build, ${cluster ? 'rollout wait' : 'readiness timeout'}, rollback)`,
    value: seconds(broken.ms),
    builds: builtOf(broken.output).length,
    goal: '-',
  });
} finally {
  if (cluster) {
    const clusterEnv = Object.fromEntries(
      readFileSync(clusterEnvFile, 'utf8')
        .split('\n')
        .map((l) => /^export ([A-Z_]+)=(.*)$/.exec(l))
        .filter(Boolean)
        .map((m) => [m[1], m[2]]),
    );
    spawnSync(
      clusterEnv.CLUSTER_KUBECTL,
      [
        '--kubeconfig',
        clusterEnv.KUBECONFIG,
        'delete',
        'namespace',
        'slipway-cluster',
        '--ignore-not-found',
        '--wait=false',
      ],
      {
        stdio: 'ignore',
      },
    );
  }
  const pods = cluster
    ? []
    : spawnSync(
        'podman',
        [
          '--storage-driver',
          'vfs',
          'pod',
          'ps',
          '--filter',
          `label=slipway.dev/instance=${instance}`,
          '--format',
          '{{.Name}}',
        ],
        { encoding: 'utf8' },
      )
        .stdout.split('\n')
        .filter(Boolean);
  if (pods.length > 0)
    spawnSync(
      'podman',
      [
        '--storage-driver',
        'vfs',
        '--cgroup-manager',
        'cgroupfs',
        '--runtime',
        'runc',
        'pod',
        'rm',
        '--force',
        '--time',
        '5',
        ...pods,
      ],
      { stdio: 'ignore' },
    );
  // The cluster's registry is the cluster's: cluster.sh stop ends it.
  if (!cluster)
    spawnSync('bash', [join(repo, 'tools/scripts/local-prereqs.sh'), '--stop'], {
      cwd: repo,
      env: { ...env, SLIPWAY_REGISTRY_ADDR: registry },
      stdio: 'ignore',
    });
  if (!keep)
    rmSync(tmp, {
      recursive: true,
      force: true,
      maxRetries: 10,
      retryDelay: 500,
    });
  else console.log(`kept ${tmp}`);
}

console.log(
  `\ndeploy benchmark (this machine, ${cluster ? 'kubectl mode on tools/scripts/cluster.sh' : 'podman'}; k6 and Playwright off, readiness timeout 180 s, 90 s for the broken release)`,
);
const width = Math.max(...figures.map((f) => f.figure.length));
for (const f of figures) {
  const verdict = f.ok === undefined ? '' : f.ok ? '  ✓' : '  ✗ (goal missed)';
  console.log(
    `${f.figure.padEnd(width)}  ${String(f.value).padStart(12)}  builds ${f.builds}  goal ${f.goal}${verdict}`,
  );
}
