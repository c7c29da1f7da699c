import { DeliveryInputError } from '../shared/errors';

/** An OCI image reference split into its parts: `repository[:tag][@digest]`. */
export interface ImageReference {
  repository: string;
  tag?: string;
  digest?: string;
}

export const DIGEST_PATTERN = /^sha256:[a-f0-9]{64}$/;
/** OCI distribution spec tag grammar. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
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
    /^h-[0-9a-f]{12}$/.test(tag) ||
    /^sha-[0-9a-f]{7,40}$/.test(tag) ||
    /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?$/.test(tag)
  );
}
