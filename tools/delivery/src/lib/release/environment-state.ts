import { holdFilePath, parseHoldFile, type Hold } from '../gitops/holds';
import { formatImageReference } from '../image/reference';
import { readImageTarget } from '../manifests/image-targets';
import { DeliveryInputError } from '../shared/errors';
import type { EnvironmentConfig } from './environment';
import type { GitOpsRepository } from './gitops-repo';
import { historyFilePath, parseHistory, type ReleaseRecord } from './history';

/**
 * What an environment's GitOps repository says about it: the references its overlay pins, its
 * holds and its release history. The release, the rollback and release-status all read it here.
 */
type Reader = Pick<GitOpsRepository, 'read' | 'describe'>;

export function overlayFile(config: EnvironmentConfig): string {
  return `${config.overlaysDir}/${config.environment}/kustomization.yaml`;
}

/** The overlay directory in the repository's checkout (none for a remote-only repository). */
export function overlayDir(config: EnvironmentConfig, repo: Pick<GitOpsRepository, 'checkout'>): string | undefined {
  const root = repo.checkout();
  return root ? `${root}/${config.overlaysDir}/${config.environment}` : undefined;
}

/** Project → pinned reference, from an overlay's text. */
export function referencesIn(file: string, text: string): Record<string, string> {
  const refs: Record<string, string> = {};
  for (const entry of readImageTarget({ kind: 'kustomize', file }, text))
    refs[entry.project] = formatImageReference(entry.reference);
  return refs;
}

/** The pinned references; a missing overlay is an error unless `optional` (then none). */
export async function readPinnedReferences(
  config: EnvironmentConfig,
  repo: Reader,
  opts: { optional?: boolean } = {},
): Promise<Record<string, string>> {
  const file = overlayFile(config);
  const text = await repo.read(file);
  if (text === undefined) {
    if (opts.optional) return {};
    throw new DeliveryInputError(
      `the ${config.environment} overlay ${file} is not in ${repo.describe()}`,
      `create it (deploy/k8s/overlays/<env>/kustomization.yaml with an images: list)`,
    );
  }
  return referencesIn(file, text);
}

export async function readHolds(config: EnvironmentConfig, repo: Reader): Promise<Hold[]> {
  const file = holdFilePath(config.holdsDir, config.environment);
  const text = await repo.read(file);
  return text === undefined ? [] : parseHoldFile(text, file, config.environment).holds;
}

export async function readHistory(config: EnvironmentConfig, repo: Reader): Promise<ReleaseRecord[]> {
  const file = historyFilePath(config.historyDir, config.environment);
  const text = await repo.read(file);
  return text === undefined ? [] : parseHistory(text, file);
}
