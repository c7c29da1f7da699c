// Stops the cluster only when global-setup.cjs started it (see there).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');

module.exports = async function clusterTierTeardown() {
  if (process.env.SLIPWAY_CLUSTER_STARTED_BY_TIER !== '1') return;
  execFileSync('bash', [path.join(root, 'tools/scripts/cluster.sh'), 'stop'], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
};
