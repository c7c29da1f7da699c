import { HttpRegistryClient, type RegistryClient } from '../image/registry';
import { isLoopbackRegistry } from '../image/reference';
import { parseImageReference } from '../image/reference';
import type { ExpectedVersion } from '../smoke/types';

/**
 * What a release asks the registry, through the image registry client: does a pinned image still
 * exist (HEAD manifest by digest), and which version/revision does it carry (its OCI labels; the
 * smoke version gate expects exactly those).
 */
export interface RegistryAccess {
  exists(reference: string): Promise<boolean>;
  expectation(reference: string): Promise<ExpectedVersion | null>;
}

export function splitRepository(repository: string): {
  registry: string;
  path: string;
} {
  const slash = repository.indexOf('/');
  const first = slash === -1 ? '' : repository.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost'))
    return { registry: first, path: repository.slice(slash + 1) };
  return {
    registry: 'docker.io',
    path: repository.includes('/') ? repository : `library/${repository}`,
  };
}

export function createRegistryAccess(
  opts: {
    env?: NodeJS.ProcessEnv;
    client?: (registry: string) => RegistryClient;
  } = {},
): RegistryAccess {
  const env = opts.env ?? process.env;
  const clients = new Map<string, RegistryClient>();
  const client = (registry: string): RegistryClient => {
    const existing = clients.get(registry);
    if (existing) return existing;
    const username = env['REGISTRY_USERNAME'];
    const password = env['REGISTRY_PASSWORD'];
    const made =
      opts.client?.(registry) ??
      new HttpRegistryClient({
        registry,
        insecure: isLoopbackRegistry(registry),
        credentials: username && password ? { username, password } : undefined,
      });
    clients.set(registry, made);
    return made;
  };
  const locate = (reference: string) => {
    const ref = parseImageReference(reference);
    const { registry, path } = splitRepository(ref.repository);
    return { registry, path, pin: ref.digest ?? ref.tag ?? 'latest' };
  };
  return {
    async exists(reference) {
      const { registry, path, pin } = locate(reference);
      return (await client(registry).headManifest(path, pin)) !== undefined;
    },
    async expectation(reference) {
      const { registry, path, pin } = locate(reference);
      const labels = await client(registry).getLabels(path, pin);
      const version = labels['org.opencontainers.image.version'];
      const revision = labels['org.opencontainers.image.revision'];
      if (!version && !revision) return null;
      return {
        ...(version ? { version } : {}),
        ...(revision ? { revision } : {}),
      };
    },
  };
}
