import { recordToChange } from '../gitops/bump-request';
import { recordFile, type ImageRecord } from '../image/record';
import type { Hold } from '../gitops/holds';
import { DeliveryInputError } from '../shared/errors';
import { formatImageReference, parseImageReference, sameReference, type ImageReference } from '../image/reference';
import type { ImageChange } from '../manifests/image-targets';
import { findRecord, isGoodState, previousGoodReferences, type ReleaseRecord } from './history';

/**
 * Pure decisions of a release and a rollback: which references move, which projects are held back,
 * and what a rollback target resolves to. No I/O: the orchestrator feeds in what it read.
 */
export interface ReleasePlanInput {
  projects: string[];
  /** Projects named on the command line: naming a held project releases its hold. */
  projectsExplicit: boolean;
  releaseHold: boolean;
  records: ImageRecord[];
  /** References the environment's overlay pins now, per project. */
  current: Record<string, ImageReference>;
  holds: Hold[];
}

export interface HeldBack {
  project: string;
  hold: Hold;
  wanted: string;
}

export interface ReleasePlan {
  /** What the bump writes (unchanged projects included: they are no-ops in the bump). */
  changes: ImageChange[];
  /** Held projects this release moves anyway (their holds go in the same commit). */
  releaseHolds: string[];
  /** Held projects left where they are, with the reference they would have moved to. */
  heldBack: HeldBack[];
  /** Projects whose reference changes. */
  moving: string[];
  /** Whether each project's image was built by this run (false: reused by content tag). */
  built: Record<string, boolean>;
}

/** The overlay placeholder of a project never deployed (all-zero digest): nothing to roll back to. */
export function isPlaceholder(ref: ImageReference | string | undefined): boolean {
  if (!ref) return true;
  const digest = typeof ref === 'string' ? ref.split('@')[1] : ref.digest;
  return !digest || /^sha256:0{64}$/.test(digest);
}

export function planRelease(input: ReleasePlanInput): ReleasePlan {
  const plan: ReleasePlan = {
    changes: [],
    releaseHolds: [],
    heldBack: [],
    moving: [],
    built: {},
  };
  for (const project of input.projects) {
    const record = input.records.find((r) => r.project === project);
    if (!record) {
      throw new DeliveryInputError(
        `no image record for '${project}' after the image step`,
        `run nx run ${project}:image and check its output`,
      );
    }
    const change = recordToChange(record, recordFile(project));
    const wanted = formatImageReference(change.reference);
    const current = input.current[project];
    const moves = !current || !sameReference(current, change.reference);
    const hold = input.holds.find((h) => h.project === project);
    if (hold && moves && hold.reference !== wanted) {
      const release = input.releaseHold || input.projectsExplicit;
      if (!release) {
        plan.heldBack.push({ project, hold, wanted });
        continue;
      }
      plan.releaseHolds.push(project);
    }
    plan.changes.push(change);
    plan.built[project] = record.reused !== true;
    if (moves) plan.moving.push(project);
  }
  return plan;
}

export type RollbackTarget = { kind: 'previous' } | { kind: 'record'; id: string } | { kind: 'commit'; commit: string };

export const RECORD_ID_PATTERN = /^[a-z0-9][a-z0-9-]*-\d{8}T\d{6}Z-[0-9a-f]{4,12}$/;

export function parseRollbackTarget(to: string | undefined): RollbackTarget {
  const value = (to ?? '').trim();
  if (value === 'previous') return { kind: 'previous' };
  if (RECORD_ID_PATTERN.test(value)) return { kind: 'record', id: value };
  if (/^[0-9a-f]{7,40}$/.test(value)) return { kind: 'commit', commit: value };
  throw new DeliveryInputError(
    `--to='${value}' is not a rollback target`,
    'pass --to=previous, --to=<record id from deploy/history/<env>.jsonl (e.g. production-20260101T120000Z-1a2b3c)>, or --to=<GitOps commit sha>',
  );
}

/**
 * References per project for a rollback target. `atCommit` are the overlay's references at the
 * commit (read by the caller) when the target is a commit. Projects without a target reference
 * are reported, not guessed.
 */
export function resolveRollbackReferences(args: {
  target: RollbackTarget;
  projects: string[];
  /** Whether the projects were named explicitly (then every one must resolve). */
  projectsExplicit: boolean;
  records: ReleaseRecord[];
  current: Record<string, string>;
  atCommit?: Record<string, string>;
  historyFile: string;
}): Record<string, string> {
  const { target, projects } = args;
  let refs: Record<string, string> = {};
  if (target.kind === 'previous') {
    refs = previousGoodReferences(args.records, args.current, projects);
    if (Object.keys(refs).length === 0) {
      throw new DeliveryInputError(
        `no earlier successful release of ${projects.join(', ')} in ${args.historyFile} differs from what runs now`,
        'pass --to=<record id> or --to=<commit> explicitly',
      );
    }
  } else if (target.kind === 'record') {
    const record = findRecord(args.records, target.id);
    if (!record)
      throw new DeliveryInputError(
        `record '${target.id}' is not in ${args.historyFile}`,
        `pick an id from ${args.historyFile} (nx run deploy:status --env=<env> lists them)`,
      );
    if (!isGoodState(record)) {
      throw new DeliveryInputError(
        `record '${target.id}' ended '${record.result}': its references never passed smoke`,
        'pick a record whose result is succeeded',
      );
    }
    for (const p of record.projects) if (projects.includes(p.project)) refs[p.project] = p.to;
  } else {
    for (const project of projects) {
      const ref = args.atCommit?.[project];
      if (ref) refs[project] = ref;
    }
  }
  for (const [project, ref] of Object.entries(refs)) {
    if (isPlaceholder(ref)) delete refs[project];
    else parseImageReference(ref, `rollback target of ${project}`);
  }
  if (args.projectsExplicit) {
    const missing = projects.filter((p) => !refs[p]);
    if (missing.length > 0) {
      throw new DeliveryInputError(
        `the rollback target has no deployed reference for ${missing.join(', ')}`,
        'leave them out of --projects, or pick another --to',
      );
    }
  }
  if (Object.keys(refs).length === 0)
    throw new DeliveryInputError('the rollback target names no deployed image', 'pick another --to');
  return refs;
}
