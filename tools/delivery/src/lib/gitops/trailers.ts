import { formatImageReference, parseImageReference, type ImageReference } from '../image/reference';

/**
 * The bump commit message. Its trailers carry everything a rollback needs, so it can be computed
 * from `git log` alone:
 *
 *   chore(deploy): staging catalog h-0123456789ab, orders h-5d6e7f8a9b0c
 *
 *   Bump 2 images of the staging environment.
 *
 *   Slipway-Environment: staging
 *   Slipway-Image: catalog 127.0.0.1:5000/slipway/catalog:h-0123456789ab@sha256:… (was 127.0.0.1:5000/slipway/catalog:h-…@sha256:…)
 *   Slipway-Image: orders …
 *   Slipway-Hold-Released: catalog
 */
export const TRAILER_ENVIRONMENT = 'Slipway-Environment';
export const TRAILER_IMAGE = 'Slipway-Image';
export const TRAILER_HOLD_RELEASED = 'Slipway-Hold-Released';
/** commitlint's config-conventional limit for the header. */
export const MAX_HEADER_LENGTH = 100;

export interface BumpedImage {
  project: string;
  next: ImageReference;
  previous: ImageReference;
}

export interface BumpMessageInput {
  environment: string;
  images: BumpedImage[];
  releasedHolds?: string[];
  /** Conventional Commit type(scope); default `chore(deploy)`. */
  prefix?: string;
  /** Extra body paragraph (e.g. why: "rollback of <commit>"). */
  body?: string;
  /** More `Key: value` trailers after the image trailers (a promotion names its source releases). */
  trailers?: string[];
}

function shortLabel(ref: ImageReference): string {
  if (ref.tag) return ref.tag;
  return ref.digest ? ref.digest.slice(0, 'sha256:'.length + 12) : ref.repository;
}

export function buildBumpMessage(input: BumpMessageInput): string {
  const prefix = input.prefix ?? 'chore(deploy)';
  const parts = input.images.map((i) => `${i.project} ${shortLabel(i.next)}`);
  let header = `${prefix}: ${input.environment} ${parts.join(', ')}`;
  if (header.length > MAX_HEADER_LENGTH) {
    // Long releases (many services) keep a readable, commitlint-valid header; trailers list all.
    const base = `${prefix}: ${input.environment} ${input.images.length} images`;
    let listed = '';
    for (let n = parts.length - 1; n >= 1; n--) {
      const candidate = ` (${parts.slice(0, n).join(', ')}, +${parts.length - n} more)`;
      if (base.length + candidate.length <= MAX_HEADER_LENGTH) {
        listed = candidate;
        break;
      }
    }
    header = base + listed;
  }
  const n = input.images.length;
  const body = input.body ?? `Bump ${n} image${n === 1 ? '' : 's'} of the ${input.environment} environment.`;
  const trailers = [
    `${TRAILER_ENVIRONMENT}: ${input.environment}`,
    ...input.images.map(
      (i) =>
        `${TRAILER_IMAGE}: ${i.project} ${formatImageReference(i.next)} (was ${formatImageReference(i.previous) || 'none'})`,
    ),
    ...(input.releasedHolds ?? []).map((p) => `${TRAILER_HOLD_RELEASED}: ${p}`),
    ...(input.trailers ?? []),
  ];
  return `${header}\n\n${body}\n\n${trailers.join('\n')}\n`;
}

export interface ParsedBumpMessage {
  environment: string;
  images: BumpedImage[];
  releasedHolds: string[];
}

/** Read a bump commit's trailers back; null if the message is not a Slipway bump. */
export function parseBumpMessage(message: string): ParsedBumpMessage | null {
  const lines = message.split('\n');
  let environment: string | undefined;
  const images: BumpedImage[] = [];
  const releasedHolds: string[] = [];
  for (const line of lines) {
    const m = /^([A-Za-z-]+):\s?(.*)$/.exec(line);
    if (!m) continue;
    const [, key, value] = m;
    if (key === TRAILER_ENVIRONMENT) environment = value.trim();
    else if (key === TRAILER_HOLD_RELEASED) releasedHolds.push(value.trim());
    else if (key === TRAILER_IMAGE) {
      const im = /^(\S+) (\S+) \(was (\S+)\)$/.exec(value.trim());
      if (!im) continue;
      images.push({
        project: im[1],
        next: parseImageReference(im[2]),
        previous: im[3] === 'none' ? { repository: '' } : parseImageReference(im[3]),
      });
    }
  }
  if (!environment) return null;
  return { environment, images, releasedHolds };
}
