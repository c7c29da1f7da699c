import { DeliveryInputError } from '../shared/errors';

/**
 * The one OCI reference grammar: registry hosts, repository paths, tags and digests as the OCI
 * distribution spec defines them, parsing and formatting `repository[:tag][@digest]`, and the
 * image name (`registry/path`) the image executor pushes to. Every other module imports from here.
 */

/** An OCI image reference split into its parts: `repository[:tag][@digest]`. */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
/** OCI distribution spec tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** Slipway's content tag: `h-` and 12 hex digits of the Nx task hash. */
export const CONTENT_TAG_PATTERN = /^h-[0-9a-f]{12}$/;
/** metadata-action's sha tag: `sha-` and 7 to 40 hex digits of the commit. */
export const SHA_TAG_PATTERN = /^sha-[0-9a-f]{7,40}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY_HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?$/;
const MUTABLE_TAGS = new Set(['latest', 'main', 'master', 'stable', 'edge', 'dev', 'develop', 'head']);

export function formatImageReference(ref: ImageReference): string {
  return `${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export function sameReference(a: ImageReference, b: ImageReference): boolean {
  return a.repository === b.repository && (a.tag ?? '') === (b.tag ?? '') && (a.digest ?? '') === (b.digest ?? '');
}

/** Problems with a repository name (empty list = valid). */
export function repositoryProblems(repository: string): string[] {
  if (repository === '') return ['the repository is empty'];
  if (/\s/.test(repository)) return ['the repository contains whitespace'];
  const parts = repository.split('/');
  const problems: string[] = [];
  const first = parts[0];
  const hasRegistry = parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasRegistry && !REGISTRY_HOST.test(first)) problems.push(`'${first}' is not a valid registry host[:port]`);
  for (const part of hasRegistry ? parts.slice(1) : parts) {
    if (!PATH_COMPONENT.test(part)) {
      problems.push(`'${part}' is not a valid repository path component (lowercase letters, digits, '.', '_', '-')`);
    }
  }
  return problems;
}

export function tagProblems(tag: string): string[] {
  if (!TAG_PATTERN.test(tag)) {
    return [
      `tag '${tag}' is not a valid OCI tag (letters, digits, '_', '.', '-'; at most 128; no spaces or shell characters)`,
    ];
  }
  return [];
}

export function digestProblems(digest: string): string[] {
  return DIGEST_PATTERN.test(digest) ? [] : [`digest '${digest}' is not 'sha256:' followed by 64 lowercase hex digits`];
}

/**
 * Parse `repository[:tag][@digest]`. The tag separator is the last ':' after the last '/', so a
 * registry port (`127.0.0.1:5000/x`) is not mistaken for a tag.
 */
export function parseImageReference(text: string, what = 'image reference'): ImageReference {
  const raw = text.trim();
  if (raw !== text || raw === '') {
    throw new DeliveryInputError(
      `${what} '${text}' is empty or has surrounding whitespace`,
      'give <registry>/<repository>:<tag>@sha256:<64 hex>',
    );
  }
  const at = raw.indexOf('@');
  const namePart = at === -1 ? raw : raw.slice(0, at);
  const digest = at === -1 ? undefined : raw.slice(at + 1);
  const lastSlash = namePart.lastIndexOf('/');
  const colon = namePart.indexOf(':', lastSlash + 1);
  const repository = colon === -1 ? namePart : namePart.slice(0, colon);
  const tag = colon === -1 ? undefined : namePart.slice(colon + 1);
  const problems = [
    ...repositoryProblems(repository),
    ...(tag !== undefined ? tagProblems(tag) : []),
    ...(digest !== undefined ? digestProblems(digest) : []),
  ];
  if (problems.length > 0) {
    throw new DeliveryInputError(
      `${what} '${text}' is invalid: ${problems.join('; ')}`,
      'give <registry>/<repository>:<tag>@sha256:<64 hex>, e.g. 127.0.0.1:5000/slipway/catalog:h-0123456789ab@sha256:…',
    );
  }
  return { repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

/**
 * Whether a tag names one build forever: Slipway content tags (h-<12 hex>), metadata-action sha
 * tags (sha-<7..40 hex>) and semver release tags. Branch-like tags (latest, main) move.
 */
export function isImmutableTag(tag: string): boolean {
  if (MUTABLE_TAGS.has(tag.toLowerCase())) return false;
  return (
    CONTENT_TAG_PATTERN.test(tag) ||
    SHA_TAG_PATTERN.test(tag) ||
    /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/.test(tag)
  );
}

/** A registry or repository the image executor can not push to (the message names the fix). */
export class ImageNameError extends Error {}

export function assertValidRegistry(registry: string): void {
  if (!REGISTRY_HOST.test(registry)) {
    throw new ImageNameError(
      `Invalid registry "${registry}": give a host with an optional port and no scheme or path, e.g. "127.0.0.1:5000" or "ghcr.io". Put the path into "repository".`,
    );
  }
}

/** `owner/name` path under a registry, lowercased as metadata-action does for image names. */
export function normalizeRepositoryPath(path: string): string {
  const lower = path.toLowerCase().replace(/^\/+|\/+$/g, '');
  const bad = lower.split('/').find((component) => !PATH_COMPONENT.test(component));
  if (!lower || bad !== undefined) {
    throw new ImageNameError(
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
