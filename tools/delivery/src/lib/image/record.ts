import { mkdirSync, promises as fs, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DIGEST_PATTERN, digestProblems, repositoryProblems, tagProblems } from './reference';
import { DeliveryInputError } from '../shared/errors';

/** A BuildKit attestation manifest inside an image index, and the platform image (subject) it describes. */
export interface BuildkitAttestation {
  subject: string;
  digest: string;
  predicateTypes: string[];
}

/**
 * The image record: `dist/images/<project>.json`, written by the image executor after a build
 * (or a reuse by content tag) and read by the bump, the release and the smoke version gate.
 * This module owns its type, its path, and how it is written, parsed and read.
 */
export interface ImageRecord {
  project: string;
  /** The repository, without tag or digest (`127.0.0.1:5000/slipway/catalog`). */
  image: string;
  tags: string[];
  digest: string;
  contentTag: string;
  /** Provenance: always written by the image executor; a hand-written record may omit it. */
  revision?: string;
  version?: string;
  builtAt?: string;
  reused?: boolean;
  engine?: string;
  /** cosign signature of `digest` (absent: not signed, e.g. --signing=none or no key). */
  signature?: ImageSupplyChain['signature'];
  /** in-toto attestations signed with it: the SBOM and the provenance. */
  attestations?: ImageSupplyChain['attestations'];
  /** Only for a multi-platform image: the platforms in the index `digest` names. */
  platforms?: string[];
  /** Only when BuildKit attached attestations (buildx --provenance/--sbom): the in-index attestation manifests. */
  buildkitAttestations?: BuildkitAttestation[];
}

/** What the supply-chain step adds to a record (lib/supply-chain/sign-image.ts). */
export interface ImageSupplyChain {
  signature: {
    /** Where cosign stores it: `<image>:sha256-<hex>.sig`. */
    reference: string;
    /** `key <public key file>` or `keyless identity <subject> (issuer <url>)`. */
    signer: string;
    /** false: the image was already signed by this signer (reused content tag) and only verified. */
    signedThisRun: boolean;
  };
  attestations: {
    /** `<image>:sha256-<hex>.att`. */
    reference: string;
    predicateTypes: string[];
    sbomFormat: 'spdx-json';
  };
}

/** Fields only some records have: signing (when it signed), an index, BuildKit attestations. */
type OptionalRecordFields = 'signature' | 'attestations' | 'platforms' | 'buildkitAttestations';

/** A record as the image executor writes it: every field present but the optional ones. */
export type WrittenImageRecord = Required<Omit<ImageRecord, OptionalRecordFields>> &
  Pick<ImageRecord, OptionalRecordFields>;

/** Where records live, relative to the workspace root. */
export const IMAGE_RECORDS_DIR = 'dist/images';

export const PROJECT_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** `dist/images/<project>.json`, relative to the workspace root (for messages and sources). */
export function recordFile(project: string): string {
  return `${IMAGE_RECORDS_DIR}/${project}.json`;
}

export function recordPath(workspaceRoot: string, project: string): string {
  return join(workspaceRoot, recordFile(project));
}

export function assertRecord(record: ImageRecord): void {
  if (!DIGEST_PATTERN.test(record.digest))
    throw new Error(`Refusing to write an image record with digest "${record.digest}": expected sha256:<64 hex>.`);
  if (!record.tags.includes(record.contentTag))
    throw new Error(`Image record tags must include the content tag ${record.contentTag}.`);
}

/** Write atomically (temp file + rename) so a reader never sees half a record. */
export function writeRecord(workspaceRoot: string, record: WrittenImageRecord): string {
  assertRecord(record);
  const path = recordPath(workspaceRoot, record.project);
  mkdirSync(dirname(path), { recursive: true });
  const ordered: WrittenImageRecord = {
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
    ...(record.signature ? { signature: record.signature } : {}),
    ...(record.attestations ? { attestations: record.attestations } : {}),
    ...(record.platforms ? { platforms: record.platforms } : {}),
    ...(record.buildkitAttestations ? { buildkitAttestations: record.buildkitAttestations } : {}),
  };
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(ordered, null, 2)}\n`);
  renameSync(temp, path);
  return path;
}

/** Parse and validate a record's text; `file` names it in errors. */
export function parseImageRecord(text: string, file: string): ImageRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new DeliveryInputError(
      `${file} is not valid JSON: ${(error as Error).message}`,
      'rebuild it with nx run <project>:image',
    );
  }
  const r = data as Partial<ImageRecord>;
  const problems: string[] = [];
  if (!r || typeof r !== 'object') problems.push('not a JSON object');
  else {
    if (typeof r.project !== 'string' || !PROJECT_PATTERN.test(r.project))
      problems.push(`project '${String(r.project)}' is invalid`);
    if (typeof r.image !== 'string') problems.push('image is missing');
    else problems.push(...repositoryProblems(r.image).map((p) => `image '${r.image}': ${p}`));
    if (typeof r.digest !== 'string') problems.push('digest is missing');
    else problems.push(...digestProblems(r.digest));
    if (typeof r.contentTag !== 'string') problems.push('contentTag is missing');
    else problems.push(...tagProblems(r.contentTag));
    if (!Array.isArray(r.tags) || r.tags.some((t) => typeof t !== 'string'))
      problems.push('tags is not a list of strings');
    else for (const t of r.tags) problems.push(...tagProblems(t));
  }
  if (problems.length > 0) {
    throw new DeliveryInputError(
      `image record ${file} is invalid: ${problems.join('; ')}`,
      'rebuild it with nx run <project>:image',
    );
  }
  return r as ImageRecord;
}

/** Read and parse the record at `file`; `shown` names it in errors (default: `file`). */
export async function readImageRecord(file: string, shown = file): Promise<ImageRecord> {
  return parseImageRecord(await fs.readFile(file, 'utf8'), shown);
}
