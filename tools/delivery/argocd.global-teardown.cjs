// Stops what argocd.global-setup.cjs started (and only that), Argo CD before the cluster it runs against.
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../..');
const stateFile = path.join(root, '.local/argocd/jest-started.json');

module.exports = async function () {
  if (!existsSync(stateFile)) return;
  const started = JSON.parse(readFileSync(stateFile, 'utf8'));
  rmSync(stateFile, { force: true });
  const stop = (name) =>
    spawnSync('bash', [path.join(root, 'tools/scripts', name), 'stop'], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  if (started.argocd) stop('argocd.sh');
  if (started.cluster) stop('cluster.sh');
};
