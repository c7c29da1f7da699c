// Global setup of the gitops tier (jest.argocd.config.cts): this machine's cluster and Argo CD must
// run. What already runs is reused (a developer's cluster, or CI's started by an earlier step) and
// left running; what this setup starts, the teardown stops. The decision is recorded in a file so the
// teardown (a separate module) knows.
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const stateFile = path.join(root, '.local/argocd/jest-started.json');

function script(name, args) {
  const started = Date.now();
  const r = spawnSync('bash', [path.join(root, 'tools/scripts', name), ...args], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  if (r.status !== 0) throw new Error(`bash tools/scripts/${name} ${args.join(' ')} failed (exit ${r.status})`);
  return Date.now() - started;
}

function running(name) {
  return (
    spawnSync('bash', [path.join(root, 'tools/scripts', name), 'status'], { cwd: root, stdio: 'ignore' }).status === 0
  );
}

module.exports = async function () {
  const started = { cluster: false, argocd: false };
  mkdirSync(path.dirname(stateFile), { recursive: true });
  if (!running('cluster.sh')) {
    script('cluster.sh', ['start']);
    started.cluster = true;
  }
  writeFileSync(stateFile, JSON.stringify(started));
  if (!running('argocd.sh')) {
    const ms = script('argocd.sh', ['start', '--kubeconfig', path.join(root, '.local/cluster/kubeconfig')]);
    started.argocd = true;
    process.stdout.write(`argocd.sh start took ${(ms / 1000).toFixed(1)} s\n`);
  }
  writeFileSync(stateFile, JSON.stringify(started));
  if (!existsSync(path.join(root, '.local/cluster/env'))) throw new Error('the cluster wrote no .local/cluster/env');
};
