import { mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import { applyClusterEnv, parseClusterEnv } from './cluster-env';

describe('cluster env file', () => {
  const written = `# Written by tools/scripts/cluster.sh start; source it to talk to this cluster.
export KUBECONFIG=/w/.local/cluster/kubeconfig
export CLUSTER_CONTEXT=slipway-cluster
export CLUSTER_REGISTRY=127.0.0.1:40123
export CLUSTER_KUBECTL="/root/.cache/slipway/kubernetes-v1.33.13/kubectl"
`;

  it('parses the export lines cluster.sh writes', () => {
    expect(parseClusterEnv(written)).toEqual({
      KUBECONFIG: '/w/.local/cluster/kubeconfig',
      CLUSTER_CONTEXT: 'slipway-cluster',
      CLUSTER_REGISTRY: '127.0.0.1:40123',
      CLUSTER_KUBECTL: '/root/.cache/slipway/kubernetes-v1.33.13/kubectl',
    });
  });

  it('fills kubeconfig, registry, kubectl and context; explicit options win', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-env-'));
    writeFileSync(path.join(dir, 'env'), written);
    expect(applyClusterEnv({ environment: 'cluster', clusterEnv: 'env' }, dir)).toEqual({
      environment: 'cluster',
      clusterEnv: 'env',
      registry: '127.0.0.1:40123',
      kubeconfig: '/w/.local/cluster/kubeconfig',
      kubectl: '/root/.cache/slipway/kubernetes-v1.33.13/kubectl',
      kubeContext: 'slipway-cluster',
    });
    expect(
      applyClusterEnv({ environment: 'cluster', clusterEnv: 'env', registry: 'r:1', kubeContext: 'mine' }, dir),
    ).toMatchObject({ registry: 'r:1', kubeContext: 'mine' });
    expect(applyClusterEnv({ environment: 'local' }, dir)).toEqual({ environment: 'local' });
  });

  it('says the cluster is not running, and how to start it, when the file is missing', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cluster-env-'));
    const call = () => applyClusterEnv({ environment: 'cluster', clusterEnv: '.local/cluster/env' }, dir);
    expect(call).toThrow(DeliveryInputError);
    expect(call).toThrow('the cluster of environment cluster is not running: .local/cluster/env does not exist');
    expect(call).toThrow('fix: start it: bash tools/scripts/cluster.sh start (then run the release again)');
  });
});
