import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DeliveryInputError, DeliveryInputErrors } from '../shared/errors';
import { PROJECT_PATTERN, readImageRecord, type ImageRecord } from '../image/record';
import { formatImageReference, parseImageReference, SHA_TAG_PATTERN, type ImageReference } from '../image/reference';
import type { ImageChange } from '../manifests/image-targets';

/**
 * What to bump, from image records (`dist/images/<project>.json`, written by the image executor)
 * or explicit `--set <project>=<repository>:<tag>@<digest>` pairs. Every value is validated here,
 * before any file is read for editing.
 */
export type TagPreference = 'content' | 'sha';

export const ENVIRONMENT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function assertEnvironmentName(environment: string): void {
  if (!ENVIRONMENT_PATTERN.test(environment)) {
    throw new DeliveryInputError(
      `environment '${environment}' is not a valid name (lowercase letters, digits and '-')`,
      'pass --environment=<local|staging|production|…>',
    );
  }
}

function assertProject(project: string, where: string): void {
  if (!PROJECT_PATTERN.test(project)) {
    throw new DeliveryInputError(
      `${where}: project '${project}' is not a valid project name (lowercase letters, digits, '.', '_', '-')`,
      'use the Nx project name, e.g. catalog',
    );
  }
}

/** A reference the bump may write: repository, tag and a sha256 digest, tag never `latest`. */
export function assertPinnedReference(ref: ImageReference, raw: string, where: string): void {
  if (!ref.tag || !ref.digest) {
    throw new DeliveryInputError(
      `${where}: '${raw}' has no ${!ref.digest ? 'digest' : 'tag'}; the bump pins tag and digest together`,
      `give <repository>:<tag>@sha256:<64 hex>, e.g. ${ref.repository}:h-0123456789ab@sha256:${'0'.repeat(8)}…`,
    );
  }
  if (ref.tag === 'latest') {
    throw new DeliveryInputError(
      `${where}: tag 'latest' in '${raw}' moves; it can not identify a release`,
      'use the content tag (h-…) or sha tag from the image record',
    );
  }
}

export function parseSetPair(pair: string): ImageChange {
  const eq = pair.indexOf('=');
  if (eq <= 0) {
    throw new DeliveryInputError(
      `--set '${pair}' is not <project>=<repository>:<tag>@<digest>`,
      'e.g. --set catalog=127.0.0.1:5000/slipway/catalog:h-0123456789ab@sha256:<64 hex>',
    );
  }
  const project = pair.slice(0, eq);
  const raw = pair.slice(eq + 1);
  assertProject(project, `--set ${pair}`);
  const reference = parseImageReference(raw, `--set ${project}`);
  assertPinnedReference(reference, raw, `--set ${project}`);
  return { project, reference, source: `--set ${project}` };
}

export function recordToChange(record: ImageRecord, file: string, prefer: TagPreference = 'content'): ImageChange {
  let tag = record.contentTag;
  if (prefer === 'sha') {
    const sha = record.tags.find((t) => SHA_TAG_PATTERN.test(t));
    if (!sha) {
      throw new DeliveryInputError(
        `image record ${file} has no sha-<hex> tag (tags: ${record.tags.join(', ')})`,
        "use --tag-preference=content, or add the 'sha' tag rule to the image target",
      );
    }
    tag = sha;
  }
  const reference = { repository: record.image, tag, digest: record.digest };
  assertPinnedReference(reference, formatImageReference(reference), `image record ${file}`);
  return { project: record.project, reference, source: file };
}

/** The changes named by every `*.json` record in `dir` (optionally only `projects`). */
export async function changesFromImageRecords(
  dir: string,
  opts: { projects?: string[]; prefer?: TagPreference; displayDir?: string } = {},
): Promise<ImageChange[]> {
  let names: string[];
  try {
    names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    throw new DeliveryInputError(
      `no image records: ${opts.displayDir ?? dir} does not exist`,
      'build images first (nx run-many -t image), or pass --set <project>=<repository>:<tag>@<digest>',
    );
  }
  const changes: ImageChange[] = [];
  const errors: DeliveryInputError[] = [];
  for (const name of names) {
    const file = path.join(opts.displayDir ?? dir, name);
    try {
      const record = await readImageRecord(path.join(dir, name), file);
      if (opts.projects && !opts.projects.includes(record.project)) continue;
      changes.push(recordToChange(record, file, opts.prefer));
    } catch (error) {
      if (error instanceof DeliveryInputError) errors.push(error);
      else throw error;
    }
  }
  if (errors.length > 0) throw errors.length === 1 ? errors[0] : new DeliveryInputErrors(errors);
  for (const p of opts.projects ?? []) {
    if (!changes.some((c) => c.project === p)) {
      throw new DeliveryInputError(
        `no image record for project '${p}' in ${opts.displayDir ?? dir}`,
        `run nx run ${p}:image first, or drop it from --projects`,
      );
    }
  }
  if (changes.length === 0) {
    throw new DeliveryInputError(
      `no image records in ${opts.displayDir ?? dir}`,
      'build images first (nx run-many -t image), or pass --set',
    );
  }
  return changes;
}

/** Refuse a request that names a project twice (two different references can not both win). */
export function assertUniqueProjects(changes: ImageChange[]): void {
  const seen = new Map<string, ImageChange>();
  for (const c of changes) {
    const prior = seen.get(c.project);
    if (prior) {
      throw new DeliveryInputError(
        `project '${c.project}' is given twice (${prior.source ?? '?'} and ${c.source ?? '?'})`,
        'name each project once',
      );
    }
    seen.set(c.project, c);
  }
}
