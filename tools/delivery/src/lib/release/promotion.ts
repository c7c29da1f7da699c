import { DeliveryInputError } from '../shared/errors';
import { formatImageReference, parseImageReference } from '../image/reference';
import { formatDurationShort } from '../shared/duration';
import type { ProjectRecord, ReleaseRecord } from './history';
import { isPlaceholder } from './plan';

/**
 * Promotion, decided without I/O: which references of the source environment (staging) go to the
 * target (production). A reference goes only when the source runs it now, its newest source record
 * smoke-tested it and passed, and it has soaked there long enough; otherwise it is refused with the
 * reason, unless forced with a reason. Nothing is rebuilt: the target pins the very tag@digest.
 */
export type RefusalReason = 'never-verified' | 'smoke-failed' | 'not-running' | 'soaking';

export interface PromotionInput {
  source: string;
  target: string;
  /** Projects to consider (--projects, or every deployable project). */
  projects: string[];
  /** What the source overlay pins now, per project (repository:tag@digest). */
  sourceReferences: Record<string, string>;
  /** The source environment's history, oldest first. */
  sourceHistory: ReleaseRecord[];
  /** What the target overlay pins now, per project. */
  targetReferences: Record<string, string>;
  /** Only these digests (project → sha256:…): refused when the source no longer runs them. */
  digests?: Record<string, string>;
  soakMs: number;
  now: Date;
  /** Promote refused references anyway; the reason is recorded in the history and the trailers. */
  force?: { reason: string };
}

export interface PromotedReference {
  project: string;
  reference: string;
  digest: string;
  /** The source release record that deployed and verified it (absent only when forced and never verified). */
  sourceRecord?: string;
  verifiedAt?: string;
  version?: string;
  revision?: string;
  /** Set when promoted by --force over this refusal. */
  forcedOver?: RefusalReason;
}

export interface Refusal {
  project: string;
  reference: string;
  digest: string;
  reason: RefusalReason;
  detail: string;
}

export interface PromotionPlan {
  source: string;
  target: string;
  promote: PromotedReference[];
  /** Already pinned by the target. */
  unchanged: string[];
  refused: Refusal[];
}

const digestOf = (reference: string) => reference.split('@')[1] ?? '';

/** The newest record of `source` that deployed `digest` for `project`, with the project's entry. */
function lastDeployment(
  history: ReleaseRecord[],
  project: string,
  digest: string,
): { record: ReleaseRecord; entry: ProjectRecord } | undefined {
  for (let i = history.length - 1; i >= 0; i--) {
    const record = history[i] as ReleaseRecord;
    const entry = record.projects.find((p) => p.project === project && digestOf(p.to) === digest);
    if (entry) return { record, entry };
  }
  return undefined;
}

export function planPromotion(input: PromotionInput): PromotionPlan {
  if (input.source === input.target)
    throw new DeliveryInputError(
      `cannot promote ${input.source} to itself`,
      `promote from the environment before it, e.g. --from=staging to ${input.target === 'staging' ? 'production' : input.target}`,
    );
  if (input.force && !input.force.reason.trim())
    throw new DeliveryInputError(
      '--force needs --reason',
      'say why, e.g. --force --reason="hotfix verified by hand (INC-42)"',
    );
  const plan: PromotionPlan = { source: input.source, target: input.target, promote: [], unchanged: [], refused: [] };
  for (const project of input.projects) {
    const reference = input.sourceReferences[project];
    if (!reference)
      throw new DeliveryInputError(
        `${input.source} has no image of '${project}' to promote: its overlay has no entry for it`,
        `add '${project}' to the ${input.source} overlay and release it there first, or leave it out of --projects`,
      );
    if (isPlaceholder(reference)) {
      // Nothing to promote, and --force cannot change that: there is no image.
      plan.refused.push({
        project,
        reference,
        digest: digestOf(reference),
        reason: 'never-verified',
        detail: `${input.source} has never deployed it (its overlay pins the placeholder); release it to ${input.source} first`,
      });
      continue;
    }
    const digest = digestOf(reference);
    const refuse = (reason: RefusalReason, detail: string, shown = reference, shownDigest = digest) => {
      if (input.force) return reason;
      plan.refused.push({ project, reference: shown, digest: shownDigest, reason, detail });
      return undefined;
    };
    const wanted = input.digests?.[project];
    if (wanted && wanted !== digest) {
      const earlier = lastDeployment(input.sourceHistory, project, wanted);
      const shown =
        earlier?.entry.to ??
        formatImageReference({ repository: parseImageReference(reference).repository, digest: wanted });
      const forced = refuse('not-running', `${input.source} no longer runs it; it runs ${reference}`, shown, wanted);
      if (!forced) continue;
      // Forcing a digest the source no longer runs promotes that digest, not the current one.
      plan.promote.push({
        project,
        reference: shown,
        digest: wanted,
        ...(earlier ? { sourceRecord: earlier.record.id, verifiedAt: earlier.record.finishedAt } : {}),
        forcedOver: forced,
      });
      continue;
    }
    const target = input.targetReferences[project];
    if (target && digestOf(target) === digest) {
      plan.unchanged.push(project);
      continue;
    }
    const deployed = lastDeployment(input.sourceHistory, project, digest);
    let forcedOver: RefusalReason | undefined;
    if (!deployed) {
      forcedOver = refuse(
        'never-verified',
        `no ${input.source} release record deployed it (pinned by hand?), so no smoke test ever ran against it`,
      );
      if (!forcedOver) continue;
    } else if (deployed.entry.smoke !== 'pass' || deployed.record.result === 'rolled-back') {
      const what =
        deployed.entry.smoke === 'not-run'
          ? 'was not smoke-tested'
          : deployed.entry.smoke === 'pass'
            ? 'was rolled back'
            : `smoke ${deployed.entry.smoke}${deployed.entry.smokeSummary ? ` (${deployed.entry.smokeSummary})` : ''}`;
      forcedOver = refuse(
        deployed.entry.smoke === 'not-run' ? 'never-verified' : 'smoke-failed',
        `its last ${input.source} release ${deployed.record.id} ${what}`,
      );
      if (!forcedOver) continue;
    } else {
      const verifiedAt = new Date(deployed.record.finishedAt);
      const soaked = input.now.getTime() - verifiedAt.getTime();
      if (soaked < input.soakMs) {
        forcedOver = refuse(
          'soaking',
          `verified in ${input.source} at ${deployed.record.finishedAt} (release ${deployed.record.id}); soak time ${formatDurationShort(input.soakMs)} ends in ${formatDurationShort(input.soakMs - soaked)}`,
        );
        if (!forcedOver) continue;
      }
    }
    plan.promote.push({
      project,
      reference,
      digest,
      ...(deployed
        ? {
            sourceRecord: deployed.record.id,
            verifiedAt: deployed.record.finishedAt,
            ...(deployed.entry.version ? { version: deployed.entry.version } : {}),
            ...(deployed.entry.revision ? { revision: deployed.entry.revision } : {}),
          }
        : {}),
      ...(forcedOver ? { forcedOver } : {}),
    });
  }
  return plan;
}

export const TRAILER_PROMOTED_FROM = 'Slipway-Promoted-From';
export const TRAILER_FORCED = 'Slipway-Promotion-Forced';

/** Trailers of the promotion commit: the source release each image came from, and any forcing. */
export function promotionTrailers(plan: PromotionPlan, force?: { reason: string }): string[] {
  return [
    ...plan.promote.map(
      (p) =>
        `${TRAILER_PROMOTED_FROM}: ${p.project} ${plan.source} ${p.sourceRecord ?? '(no verified release)'} ${p.digest}`,
    ),
    ...plan.promote
      .filter((p) => p.forcedOver)
      .map(
        (p) =>
          `${TRAILER_FORCED}: ${p.project} over ${p.forcedOver}: ${(force?.reason ?? '').replace(/\s+/g, ' ').trim()}`,
      ),
  ];
}

/** The plan for people: one line per project, then the refusals with their reasons. */
export function describePromotion(plan: PromotionPlan): string {
  const lines = [`promotion ${plan.source} → ${plan.target}:`];
  for (const p of plan.promote)
    lines.push(
      `  promote ${p.project} ${p.reference}${p.version ? ` (version ${p.version})` : ''}${p.sourceRecord ? ` from ${plan.source} release ${p.sourceRecord}` : ''}${p.forcedOver ? ` [forced over: ${p.forcedOver}]` : ''}`,
    );
  for (const project of plan.unchanged) lines.push(`  unchanged ${project}: ${plan.target} already runs it`);
  for (const r of plan.refused) lines.push(`  REFUSED ${r.project} ${r.digest}: ${r.reason}: ${r.detail}`);
  if (plan.promote.length === 0 && plan.refused.length === 0) lines.push('  nothing to promote');
  return lines.join('\n');
}

/** The error a plan with refusals ends in: every refused project, digest and reason, and the ways out. */
export function refusalError(plan: PromotionPlan): DeliveryInputError {
  return new DeliveryInputError(
    `refusing to promote ${plan.source} → ${plan.target}:\n${plan.refused
      .map((r) => `  ${r.project} ${r.digest}: ${r.reason}: ${r.detail}`)
      .join('\n')}`,
    `wait for the soak time, release again to ${plan.source} until its smoke passes, narrow with --projects=<the verified ones>, or --force --reason="<why>"`,
  );
}
