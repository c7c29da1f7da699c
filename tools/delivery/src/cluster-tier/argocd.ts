import * as path from 'node:path';
import { runProcess } from '../lib/shared/process';

/**
 * Argo CD for a suite of the gitops tier (*.argocd.cluster-spec.ts): reuse the one that runs
 * (tools/scripts/argocd.sh status), else start it against this machine's cluster and hand back the
 * stop — so a suite works alone, inside `nx run delivery:integration-argocd` (whose global setup
 * starts it once), and inside the cluster tier, which only starts the cluster.
 */
const WORKSPACE = path.resolve(__dirname, '../../../..');
const SCRIPT = path.join(WORKSPACE, 'tools/scripts/argocd.sh');
export const CLUSTER_KUBECONFIG = path.join(
  process.env['CLUSTER_DIR'] ?? path.join(WORKSPACE, '.local/cluster'),
  'kubeconfig',
);

export async function ensureArgoCd(): Promise<() => Promise<void>> {
  const status = await runProcess('bash', [SCRIPT, 'status'], { cwd: WORKSPACE, timeoutMs: 60_000 });
  if (status.code === 0) return async () => undefined;
  const started = await runProcess('bash', [SCRIPT, 'start', '--kubeconfig', CLUSTER_KUBECONFIG], {
    cwd: WORKSPACE,
    // The first start on a machine builds Argo CD (minutes on an empty Go cache).
    timeoutMs: 60 * 60_000,
  });
  if (started.code !== 0) throw new Error(`bash tools/scripts/argocd.sh start failed: ${started.stderr.trim()}`);
  process.stderr.write(`${started.stderr.trim().split('\n').pop() ?? ''}\n`);
  return async () => {
    await runProcess('bash', [SCRIPT, 'stop'], { cwd: WORKSPACE, timeoutMs: 120_000 });
  };
}
