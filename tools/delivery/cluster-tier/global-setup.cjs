// The cluster tier needs this machine's Kubernetes (tools/scripts/cluster.sh). test-all.mjs starts it
// before `nx run-many -t cluster` and stops it after; run alone (`nx run delivery:cluster`), the tier
// starts it here and global-teardown.cjs stops it, only when this run started it.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '../../..');
const script = path.join(root, 'tools/scripts/cluster.sh');

module.exports = async function clusterTierSetup() {
  let running = true;
  try {
    execFileSync('bash', [script, 'status'], { cwd: root, stdio: 'ignore' });
  } catch {
    running = false;
  }
  if (running) {
    process.env.SLIPWAY_CLUSTER_STARTED_BY_TIER = '';
    return;
  }
  process.stderr.write('\ncluster tier: starting the cluster (bash tools/scripts/cluster.sh start)\n');
  execFileSync('bash', [script, 'start'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  process.env.SLIPWAY_CLUSTER_STARTED_BY_TIER = '1';
};
