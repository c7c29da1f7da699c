/** Registry host and repository names, validated the way the OCI distribution spec defines them. */

const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]{1,5})?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;

export class ReferenceError extends Error {}

export function assertValidRegistry(registry: string): void {
  if (!REGISTRY_HOST.test(registry)) {
    throw new ReferenceError(
      `Invalid registry "${registry}": give a host with an optional port and no scheme or path, e.g. "127.0.0.1:5000" or "ghcr.io". Put the path into "repository".`,
    );
  }
}

/** `owner/name` path under a registry, lowercased as metadata-action does for image names. */
export function normalizeRepositoryPath(path: string): string {
  const lower = path.toLowerCase().replace(/^\/+|\/+$/g, '');
  const bad = lower.split('/').find((component) => !PATH_COMPONENT.test(component));
  if (!lower || bad !== undefined) {
    throw new ReferenceError(
      `Invalid repository "${path}": each /-separated part must be lowercase letters and digits, joined by ".", "_", "__" or "-" (e.g. "slipway/catalog").`,
    );
  }
  return lower;
}

export interface ImageName {
  registry: string;
  /** Path inside the registry, e.g. `slipway/catalog`. */
  path: string;
  /** `registry/path`, the image name written to the record. */
  full: string;
}

export function resolveImageName(
  registry: string,
  repository: string | undefined,
  owner: string,
  project: string,
): ImageName {
  assertValidRegistry(registry);
  let path = repository ?? `${owner}/${project}`;
  // Accept a repository given with the registry prefix too ("127.0.0.1:5000/slipway/catalog").
  if (path.toLowerCase().startsWith(`${registry.toLowerCase()}/`)) path = path.slice(registry.length + 1);
  const normalized = normalizeRepositoryPath(path);
  return { registry, path: normalized, full: `${registry}/${normalized}` };
}

/** Loopback registries speak plain http (docker-registry here); everything else https. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').toLowerCase();
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
