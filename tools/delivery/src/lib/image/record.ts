import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** dist/images/<project>.json: the only thing the manifest bump reads. */
export interface ImageRecord {
  project: string;
  image: string;
  tags: string[];
  digest: string;
  contentTag: string;
  revision: string;
  version: string;
  builtAt: string;
  reused: boolean;
  engine: string;
}

export function recordPath(workspaceRoot: string, project: string): string {
  return join(workspaceRoot, 'dist', 'images', `${project}.json`);
}

export function assertRecord(record: ImageRecord): void {
  if (!/^sha256:[0-9a-f]{64}$/.test(record.digest))
    throw new Error(`Refusing to write an image record with digest "${record.digest}": expected sha256:<64 hex>.`);
  if (!record.tags.includes(record.contentTag))
    throw new Error(`Image record tags must include the content tag ${record.contentTag}.`);
}

/** Write atomically (temp file + rename) so a reader never sees half a record. */
export function writeRecord(workspaceRoot: string, record: ImageRecord): string {
  assertRecord(record);
  const path = recordPath(workspaceRoot, record.project);
  mkdirSync(dirname(path), { recursive: true });
  const ordered: ImageRecord = {
    project: record.project,
    image: record.image,
    tags: record.tags,
    digest: record.digest,
    contentTag: record.contentTag,
    revision: record.revision,
    version: record.version,
    builtAt: record.builtAt,
    reused: record.reused,
    engine: record.engine,
  };
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(ordered, null, 2)}\n`);
  renameSync(temp, path);
  return path;
}
