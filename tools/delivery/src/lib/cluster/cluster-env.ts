import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import type { EnvironmentOptions } from '../release/environment';

/**
 * The file tools/scripts/cluster.sh writes when this machine's cluster is up (.local/cluster/env):
 * `export KEY=value` lines with the kubeconfig, the registry the node pulls from and the pinned
 * kubectl. An environment with `clusterEnv` takes those as defaults, so `nx run deploy:cluster`
 * needs no sourcing, while options given explicitly still win. Its absence means the cluster is not
 * running, which is said before anything else happens.
 */
export const CLUSTER_SCRIPT = 'bash tools/scripts/cluster.sh';

export function parseClusterEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(.*)$/.exec(raw);
    if (!match) continue;
    out[match[1] as string] = (match[2] as string).trim().replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
}

export function applyClusterEnv(options: EnvironmentOptions, workspaceRoot: string): EnvironmentOptions {
  if (!options.clusterEnv) return options;
  const file = path.resolve(workspaceRoot, options.clusterEnv);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new DeliveryInputError(
      `the cluster of environment ${options.environment ?? options.env ?? '?'} is not running: ${options.clusterEnv} does not exist`,
      `start it: ${CLUSTER_SCRIPT} start (then run the release again)`,
    );
  }
  const values = parseClusterEnv(text);
  const missing = ['KUBECONFIG', 'CLUSTER_REGISTRY'].filter((key) => !values[key]);
  if (missing.length > 0) {
    throw new DeliveryInputError(
      `${options.clusterEnv} has no ${missing.join(' or ')}`,
      `restart the cluster so it writes the file again: ${CLUSTER_SCRIPT} stop && ${CLUSTER_SCRIPT} start`,
    );
  }
  return {
    ...options,
    registry: options.registry ?? values['CLUSTER_REGISTRY'],
    kubeconfig: options.kubeconfig ?? values['KUBECONFIG'],
    kubectl: options.kubectl ?? values['CLUSTER_KUBECTL'],
    kubeContext: options.kubeContext ?? values['CLUSTER_CONTEXT'],
  };
}
