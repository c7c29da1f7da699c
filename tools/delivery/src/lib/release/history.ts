import { randomBytes } from 'node:crypto';
import { DeliveryInputError } from '../shared/errors';
import type { DeployMode } from './environment';

/**
 * Release history: one JSON object per line in `<historyDir>/<environment>.jsonl` of the GitOps
 * repository, appended by every release and rollback (never rewritten). A record says what moved
 * where, who did it, how long each stage took and how it ended, so `rollback --to=<id>` and
 * `status` can be answered from git alone.
 */
export type RecordKind = 'release' | 'rollback';
/** `rolled-back`: a release whose smoke failed and whose automatic rollback restored the previous references. */
export type RecordResult = 'succeeded' | 'rolled-back' | 'failed';
export type SmokeResult = 'pass' | 'fail' | 'inconclusive' | 'not-run';

export interface ProjectRecord {
  project: string;
  /** Image reference before (repository:tag@digest). */
  from: string;
  /** Image reference deployed. */
  to: string;
  /** Built by this release (false: reused by content tag, or not an image change). */
  built?: boolean;
  smoke: SmokeResult;
  /** One line from the smoke report. */
  smokeSummary?: string;
  version?: string;
  revision?: string;
  url?: string;
  /** Whether the deploy verified the image's signature and attestations against the trust policy. */
  verified?: boolean;
}

export interface ReleaseRecord {
  schemaVersion: 1;
  id: string;
  kind: RecordKind;
  environment: string;
  mode: DeployMode;
  result: RecordResult;
  actor: string;
  /** What started it: `nx run deploy:local`, `automatic rollback of <id>`, `nx run deploy:rollback --to=previous`. */
  trigger: string;
  reason?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Commit of the source repository the images were built from. */
  sourceRevision?: string;
  /** The GitOps commit that moved the references (absent when only the running state was repaired). */
  commit?: string;
  projects: ProjectRecord[];
  /** Milliseconds per stage: lock, prepare, images, bump, apply, smoke, rollback… */
  stages: Record<string, number>;
  /** A release that was rolled back automatically: the rollback record's id. */
  rolledBackBy?: string;
  /** A rollback: the record (release id) or commit it reverted / the target it went to. */
  rollbackOf?: string;
  /** Projects this record put on hold. */
  holds?: string[];
  /** Human-readable problems, one per line. */
  failures?: string[];
  /** A promotion: the source environment and, per project, the source release that verified it. */
  promotedFrom?: { environment: string; records: Record<string, string> };
  /** A forced promotion: `<project>: <refusal it overrode>` (the reason is in `reason`). */
  forced?: string[];
}

export function newRecordId(
  environment: string,
  now: Date,
  random: () => string = () => randomBytes(3).toString('hex'),
): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${environment}-${stamp}-${random()}`;
}

export function historyFilePath(historyDir: string, environment: string): string {
  return `${historyDir.replace(/\/+$/, '')}/${environment}.jsonl`;
}

const REQUIRED: (keyof ReleaseRecord)[] = ['id', 'kind', 'environment', 'result', 'startedAt', 'projects'];

/** Parse a history file; a damaged line is an error naming the file and line (history is evidence: never guessed). */
export function parseHistory(text: string, file: string): ReleaseRecord[] {
  const records: ReleaseRecord[] = [];
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (error) {
      throw new DeliveryInputError(
        `${file}:${index + 1} is not a JSON record: ${(error as Error).message}`,
        `repair or remove that line in the GitOps repository`,
      );
    }
    const record = data as ReleaseRecord;
    const missing = REQUIRED.filter(
      (key) => record === null || typeof record !== 'object' || record[key] === undefined,
    );
    if (missing.length > 0 || !Array.isArray(record.projects)) {
      throw new DeliveryInputError(
        `${file}:${index + 1} is not a release record (missing ${missing.join(', ') || 'projects list'})`,
        'repair or remove that line',
      );
    }
    records.push(record);
  });
  return records;
}

export function serializeRecord(record: ReleaseRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/** Append records to a history file's content (a missing final newline is repaired first). */
export function appendRecords(existing: string | undefined, records: ReleaseRecord[]): string {
  const base = existing ?? '';
  const prefix = base.length > 0 && !base.endsWith('\n') ? `${base}\n` : base;
  return prefix + records.map(serializeRecord).join('');
}

export function findRecord(records: ReleaseRecord[], id: string): ReleaseRecord | undefined {
  return records.find((r) => r.id === id);
}

/** Records that left the environment in a known-good state (a release or rollback whose smoke passed). */
export function isGoodState(record: ReleaseRecord): boolean {
  return record.result === 'succeeded';
}

/**
 * The references of the newest known-good state that differs from `current`, per project: what
 * `rollback --to=previous` restores. Failed and rolled-back releases are skipped (their `to` was
 * never good), so a rollback never returns to a version that already failed.
 */
export function previousGoodReferences(
  records: ReleaseRecord[],
  current: Record<string, string>,
  projects: string[],
): Record<string, string> {
  const found: Record<string, string> = {};
  for (const record of [...records].reverse()) {
    if (!isGoodState(record)) continue;
    for (const p of record.projects) {
      if (!projects.includes(p.project) || found[p.project] !== undefined) continue;
      if (p.to && p.to !== current[p.project]) found[p.project] = p.to;
    }
    if (projects.every((p) => found[p] !== undefined)) break;
  }
  return found;
}

/** The newest record (of any result) for display. */
export function latestRecords(records: ReleaseRecord[], count: number): ReleaseRecord[] {
  return records.slice(-count).reverse();
}
