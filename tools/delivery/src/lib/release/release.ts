import type { ApplyBumpResult } from '../gitops/apply-bump';
import { recordFile, type ImageRecord } from '../image/record';
import type { Hold } from '../gitops/holds';
import { DeliveryInputError } from '../shared/errors';
import { formatImageReference, parseImageReference } from '../image/reference';
import type { ExpectedVersion } from '../smoke/types';
import type { ClusterAdapter } from '../cluster/types';
import type { EnvironmentConfig } from './environment';
import {
  overlayDir,
  overlayFile,
  readHistory,
  readHolds,
  readPinnedReferences,
  referencesIn,
} from './environment-state';
import type { GitOpsRepository } from './gitops-repo';
import {
  appendRecords,
  historyFilePath,
  newRecordId,
  type ProjectRecord,
  type RecordResult,
  type ReleaseRecord,
  type SmokeResult,
} from './history';
import type { ReleaseLock } from './lock';
import { isPlaceholder, parseRollbackTarget, planRelease, resolveRollbackReferences, type ReleasePlan } from './plan';
import type { RegistryAccess } from './registry-access';
import type { SmokeOutcome, SmokeStep } from './smoke-step';
import { StageTimer, formatDuration } from './timings';
import type { ReleasePromotion } from './promotion-step';
import { verifyStep, type ImageGate } from './verify-step';

/**
 * The release and the rollback, as orchestration over narrow adapters (GitOps repository, images,
 * cluster, smoke, registry, lock, notifications). Everything that decides is in plan.ts and
 * history.ts; everything that touches the world is behind the deps, which tests replace.
 *
 * Release: lock → prepare the GitOps repository → images (build or reuse) → bump (one commit) →
 * apply (changed projects, plus any whose running workload drifted) → smoke each → on failure a
 * revert commit with holds for the failed projects → apply → smoke again → record → summary.
 */
export interface ReleaseDeps {
  config: EnvironmentConfig;
  repo: GitOpsRepository;
  cluster: ClusterAdapter;
  /** Prepares the repository (local: seed/sync from the working tree), then `repo.refresh()`. */
  prepare: () => Promise<void>;
  /** The image step: fresh records for every project. */
  images: (projects: string[]) => Promise<ImageRecord[]>;
  smoke: SmokeStep;
  registry: RegistryAccess;
  /** Verifies images against the environment's trust policy before they are written or applied (throws the refusal). */
  verifyImages?: ImageGate;
  lock: ReleaseLock;
  /** Console summary, $GITHUB_STEP_SUMMARY, webhook. Must not throw. */
  notify: (records: ReleaseRecord[]) => Promise<void>;
  /** Base URL per project for the summary (podman), when smoke does not say. */
  urls: Record<string, string>;
  log: (line: string) => void;
  now: () => Date;
  monotonic?: () => number;
  actor: string;
  trigger: string;
  sourceRevision?: string;
}

export interface ReleaseOptions {
  releaseHold: boolean;
  /** Promote another environment's verified references instead of building (promotion-step.ts). */
  promotion?: ReleasePromotion;
}

export interface ReleaseOutcome {
  exitCode: 0 | 1;
  records: ReleaseRecord[];
  /** One line: what happened. */
  message: string;
}

function ordered(config: EnvironmentConfig, projects: Iterable<string>): string[] {
  const set = new Set(projects);
  return config.projects.filter((p) => set.has(p));
}

function smokeResult(outcome: SmokeOutcome | undefined): SmokeResult {
  return outcome ? outcome.outcome : 'not-run';
}

/** Smoke `projects` one after the other; each is expected to report the version its image carries. */
async function smokeAll(
  deps: ReleaseDeps,
  projects: string[],
  expectation: (project: string) => Promise<{ expect: ExpectedVersion | null; source: string }>,
): Promise<Map<string, SmokeOutcome>> {
  const outcomes = new Map<string, SmokeOutcome>();
  for (const project of projects) {
    const { expect, source } = await expectation(project);
    outcomes.set(project, await deps.smoke.run(project, expect, source));
  }
  return outcomes;
}

async function appendToHistory(deps: ReleaseDeps, records: ReleaseRecord[]): Promise<void> {
  if (records.length === 0) return;
  const file = historyFilePath(deps.config.historyDir, deps.config.environment);
  const ids = records.map((r) => r.id).join(', ');
  try {
    const result = await deps.repo.commit(
      `chore(deploy): record ${deps.config.environment} ${records.map((r) => `${r.kind} ${r.result}`).join(', ')}\n\nRecords: ${ids}\n`,
      async (read) => [{ path: file, content: appendRecords(await read(file), records) }],
    );
    deps.log(`history: ${file} += ${ids}${result.commit ? ` (commit ${result.commit.slice(0, 12)})` : ''}`);
  } catch (error) {
    // The release itself is done; a lost record is reported loudly but does not undo it.
    deps.log(`warning: could not append ${ids} to ${file}: ${(error as Error).message}`);
  }
}

function describeFailures(outcomes: Map<string, SmokeOutcome>): string[] {
  return [...outcomes.values()]
    .filter((o) => o.outcome !== 'pass')
    .map((o) => `${o.project} smoke ${o.outcome}: ${o.summary}`);
}

interface RollbackResult {
  record: ReleaseRecord;
  ok: boolean;
}

/**
 * Move `targets` (project → reference) back in one revert commit that also writes `holds`, apply,
 * and smoke. Used by the automatic rollback of a failed release and by the rollback command.
 */
async function restore(
  deps: ReleaseDeps,
  args: {
    id: string;
    targets: Record<string, string>;
    holds: Hold[];
    body: string;
    trigger: string;
    reason?: string;
    rollbackOf?: string;
    timer: StageTimer;
    prefix: string;
    startedAt: Date;
  },
): Promise<RollbackResult> {
  const { config } = deps;
  const projects = ordered(config, Object.keys(args.targets));
  const failures: string[] = [];
  let bump: ApplyBumpResult | undefined;
  let ok = true;
  const outcomes = new Map<string, SmokeOutcome>();
  let verified = new Set<string>();
  try {
    verified = await verifyStep(deps.verifyImages, args.timer, args.targets, `${args.prefix}verify`);
    bump = await args.timer.time(`${args.prefix}bump`, () =>
      deps.repo.bump({
        environment: config.environment,
        changes: projects.map((project) => ({
          project,
          reference: parseImageReference(args.targets[project] as string),
          source: 'rollback target',
        })),
        overlaysDir: config.overlaysDir,
        holdsDir: config.holdsDir,
        releaseHolds: projects,
        addHolds: args.holds,
        message: { prefix: 'revert(deploy)', body: args.body },
        log: deps.log,
      }),
    );
    const moved = ordered(
      config,
      bump.images.filter((i) => i.changed).map((i) => i.project),
    );
    if (moved.length > 0) {
      await args.timer.time(`${args.prefix}apply`, () =>
        deps.cluster.apply({
          overlayDir: overlayDir(deps.config, deps.repo),
          projects: moved,
          commit: bump?.commit,
          log: deps.log,
        }),
      );
      const result = await args.timer.time(`${args.prefix}smoke`, () =>
        smokeAll(deps, moved, async (project) => ({
          expect: await deps.registry.expectation(args.targets[project] as string),
          source: `labels of ${args.targets[project]}`,
        })),
      );
      for (const [k, v] of result) outcomes.set(k, v);
    }
    failures.push(...describeFailures(outcomes));
    ok = failures.length === 0;
  } catch (error) {
    ok = false;
    failures.push(`rollback failed: ${(error as Error).message}`);
  }
  const finished = deps.now();
  const record: ReleaseRecord = {
    schemaVersion: 1,
    id: args.id,
    kind: 'rollback',
    environment: config.environment,
    mode: config.mode,
    result: ok ? 'succeeded' : 'failed',
    actor: deps.actor,
    trigger: args.trigger,
    ...(args.reason ? { reason: args.reason } : {}),
    startedAt: args.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - args.startedAt.getTime(),
    ...(deps.sourceRevision ? { sourceRevision: deps.sourceRevision } : {}),
    ...(bump?.commit ? { commit: bump.commit } : {}),
    projects: projects.map((project) => {
      const image = bump?.images.find((i) => i.project === project);
      const outcome = outcomes.get(project);
      return {
        project,
        from: image?.previous ?? '',
        to: args.targets[project] as string,
        smoke: smokeResult(outcome),
        ...(deps.verifyImages ? { verified: verified.has(project) } : {}),
        ...(outcome
          ? { smokeSummary: outcome.summary, url: outcome.baseUrl }
          : deps.urls[project]
            ? { url: deps.urls[project] }
            : {}),
      };
    }),
    stages: {},
    ...(args.rollbackOf ? { rollbackOf: args.rollbackOf } : {}),
    ...(args.holds.length > 0 ? { holds: args.holds.map((h) => h.project) } : {}),
    ...(failures.length > 0 ? { failures } : {}),
  };
  return { record, ok };
}

/** What one release knows as it goes through its stages. */
interface ReleaseRun {
  deps: ReleaseDeps;
  timer: StageTimer;
  id: string;
  startedAt: Date;
  /** References the overlay pinned before the release. */
  current: Record<string, string>;
  imageRecords: ImageRecord[];
  plan: ReleasePlan;
  bump?: ApplyBumpResult;
  /** Projects whose reference the bump moved, and what is deployed (moved plus drifted). */
  moved: string[];
  deploySet: string[];
  /** References the overlay pins after the bump. */
  refsNow: Record<string, string>;
  failures: string[];
  outcomes: Map<string, SmokeOutcome>;
  /** Projects whose image passed the deploy gate (signature and attestations) in this release. */
  verified: Set<string>;
  promotion?: ReleasePromotion;
}

/** Stage 1: what the overlay pins and holds; every project must be in the overlay. */
async function readStartingPoint(deps: ReleaseDeps): Promise<{ current: Record<string, string>; holds: Hold[] }> {
  const { config } = deps;
  const current = await readPinnedReferences(config, deps.repo);
  const holds = await readHolds(config, deps.repo);
  const unknown = config.projects.filter((p) => current[p] === undefined);
  if (unknown.length > 0) {
    throw new DeliveryInputError(
      `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not in the ${config.environment} overlay ${overlayFile(config)}`,
      'add an images: entry (and the workload) to the overlay, or leave them out of --projects',
    );
  }
  deps.smoke.preflight(config.projects);
  return { current, holds };
}

/** Stage 2: an image for every project (built or reused), and the plan of what moves. */
async function imagesAndPlan(
  deps: ReleaseDeps,
  options: ReleaseOptions,
  timer: StageTimer,
  start: { current: Record<string, string>; holds: Hold[] },
): Promise<{ imageRecords: ImageRecord[]; plan: ReleasePlan }> {
  const { config, log } = deps;
  const imageRecords = await timer.time('images', () =>
    options.promotion
      ? options.promotion.images({
          current: start.current,
          read: (file) => deps.repo.read(file),
          registry: deps.registry,
        })
      : deps.images(config.projects),
  );
  const plan = planRelease({
    projects: config.projects,
    projectsExplicit: config.projectsExplicit,
    releaseHold: options.releaseHold,
    records: imageRecords,
    current: Object.fromEntries(Object.entries(start.current).map(([p, r]) => [p, parseImageReference(r)])),
    holds: start.holds,
  });
  for (const held of plan.heldBack) {
    log(
      `${held.project} is held at ${held.hold.reference} since ${held.hold.since} (${held.hold.reason}); not moved to ${held.wanted}. Name it (--projects=${held.project}) or pass --release-hold to deploy it.`,
    );
  }
  const built = imageRecords.filter((r) => plan.built[r.project]).map((r) => r.project);
  const reused = imageRecords.filter((r) => !plan.built[r.project]).map((r) => r.project);
  log(`images: built ${built.join(', ') || 'none'}; reused ${reused.join(', ') || 'none'}`);
  return { imageRecords, plan };
}

/** Stage 3: one GitOps commit moving every project the plan moves (none when nothing moves). */
async function bumpOverlay(
  deps: ReleaseDeps,
  options: ReleaseOptions,
  plan: ReleasePlan,
  timer: StageTimer,
): Promise<ApplyBumpResult | undefined> {
  const { config, log } = deps;
  if (plan.moving.length === 0) return undefined;
  const bump = await timer.time('bump', () =>
    deps.repo.bump({
      environment: config.environment,
      changes: plan.changes.filter((c) => plan.moving.includes(c.project)),
      overlaysDir: config.overlaysDir,
      holdsDir: config.holdsDir,
      releaseHolds: plan.releaseHolds,
      ...(options.promotion ? { message: options.promotion.message() } : {}),
      log,
    }),
  );
  if (bump.commit)
    log(
      `bump: ${bump.commit.slice(0, 12)} ${bump.message?.split('\n')[0] ?? ''}${bump.pushed ? ` (pushed, ${bump.pushAttempts} attempt${bump.pushAttempts === 1 ? '' : 's'})` : ''}`,
    );
  return bump;
}

/** Stage 4: apply the deploy set and smoke each project; what failed is collected, not thrown. */
async function applyAndSmoke(run: ReleaseRun): Promise<void> {
  const { deps, timer, deploySet, imageRecords, refsNow } = run;
  try {
    await timer.time('apply', () =>
      deps.cluster.apply({
        overlayDir: overlayDir(deps.config, deps.repo),
        projects: deploySet,
        commit: run.bump?.commit,
        log: deps.log,
      }),
    );
    run.outcomes = await timer.time('smoke', () =>
      smokeAll(deps, deploySet, async (project) => {
        const record = imageRecords.find((r) => r.project === project);
        const ref = refsNow[project] as string;
        if (record && ref.endsWith(`@${record.digest}`))
          return {
            expect: { version: record.version, revision: record.revision },
            source: recordFile(project),
          };
        return {
          expect: await deps.registry.expectation(ref),
          source: `labels of ${ref}`,
        };
      }),
    );
    run.failures.push(...describeFailures(run.outcomes));
  } catch (error) {
    run.failures.push(`apply failed: ${(error as Error).message}`);
  }
}

function projectRecord(run: ReleaseRun, project: string): ProjectRecord {
  const image = run.bump?.images.find((i) => i.project === project && i.changed);
  const outcome = run.outcomes.get(project);
  const record = run.imageRecords.find((r) => r.project === project);
  return {
    project,
    from: image?.previous ?? (run.refsNow[project] as string),
    to: run.refsNow[project] as string,
    built: image ? run.plan.built[project] : false,
    smoke: smokeResult(outcome),
    ...(outcome ? { smokeSummary: outcome.summary } : {}),
    ...(record && image ? { version: record.version, revision: record.revision } : {}),
    ...(outcome?.baseUrl || run.deps.urls[project] ? { url: outcome?.baseUrl ?? run.deps.urls[project] } : {}),
    ...(run.deps.verifyImages ? { verified: run.verified.has(project) } : {}),
  };
}

/** The release's history record, as it stands now. */
function releaseRecord(run: ReleaseRun, result: RecordResult, extra: Partial<ReleaseRecord> = {}): ReleaseRecord {
  const { deps, startedAt } = run;
  const finished = deps.now();
  return {
    schemaVersion: 1,
    id: run.id,
    kind: 'release',
    environment: deps.config.environment,
    mode: deps.config.mode,
    result,
    actor: deps.actor,
    trigger: deps.trigger,
    startedAt: startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - startedAt.getTime(),
    ...(deps.sourceRevision ? { sourceRevision: deps.sourceRevision } : {}),
    ...(run.bump?.commit ? { commit: run.bump.commit } : {}),
    projects: run.deploySet.map((project) => projectRecord(run, project)),
    stages: { ...run.timer.stages },
    ...(run.failures.length > 0 ? { failures: [...run.failures] } : {}),
    ...run.promotion?.record(),
    ...extra,
  };
}

/** The release's stage times, with the rollback's stages summed into one `rollback` stage. */
function stagesWithRollback(timer: StageTimer): Record<string, number> {
  const entries = Object.entries(timer.stages);
  const rollback = entries.filter(([k]) => k.startsWith('rollback-')).reduce((sum, [, v]) => sum + v, 0);
  return Object.fromEntries(entries.filter(([k]) => !k.startsWith('rollback-')).concat([['rollback', rollback]]));
}

/** Stage 5 (on failure): revert the moved projects in one commit, hold the failed ones, apply, smoke. */
async function rollBackFailedRelease(run: ReleaseRun): Promise<ReleaseOutcome> {
  const { deps, id, bump, moved, failures, outcomes, refsNow, timer } = run;
  const { config, log } = deps;
  log(`release ${id} failed:\n  ${failures.join('\n  ')}`);
  const restorable = Object.fromEntries(
    moved
      .map((p) => [p, bump?.images.find((i) => i.project === p)?.previous ?? ''])
      .filter(([, ref]) => ref && !isPlaceholder(ref)),
  ) as Record<string, string>;
  if (!config.autoRollback || Object.keys(restorable).length === 0) {
    const why = !config.autoRollback
      ? 'automatic rollback is off (--autoRollback=false)'
      : moved.length === 0
        ? 'no reference moved (only the running state was repaired), so there is nothing to revert'
        : `no earlier deployed reference of ${moved.join(', ')} to restore (first deploy)`;
    failures.push(`not rolled back: ${why}`);
    return {
      exitCode: 1,
      records: [releaseRecord(run, 'failed')],
      message: `${config.environment}: release ${id} failed; ${why}`,
    };
  }
  const failed = [...outcomes.values()].filter((o) => o.outcome !== 'pass').map((o) => o.project);
  const failedProjects = failed.length > 0 ? failed : moved;
  const since = deps.now().toISOString();
  const holds: Hold[] = failedProjects
    .filter((p) => restorable[p])
    .map((project) => ({
      project,
      reference: restorable[project] as string,
      reason: `automatic rollback of ${id}: ${outcomes.get(project) ? `smoke ${outcomes.get(project)?.outcome}` : 'apply failed'} for ${refsNow[project]}`,
      since,
    }));
  const rollbackStarted = deps.now();
  const rollbackId = newRecordId(config.environment, rollbackStarted);
  log(
    `rolling back ${Object.keys(restorable).join(', ')} to the previous references; hold for ${holds.map((h) => h.project).join(', ') || 'none'}`,
  );
  const rollback = await restore(deps, {
    id: rollbackId,
    targets: restorable,
    holds,
    body: `Automatic rollback of release ${id}${bump?.commit ? ` (${bump.commit.slice(0, 12)})` : ''}: ${failures.join('; ').slice(0, 600)}`,
    trigger: `automatic rollback of ${id}`,
    rollbackOf: id,
    timer,
    prefix: 'rollback-',
    startedAt: rollbackStarted,
  });
  rollback.record.stages = Object.fromEntries(
    Object.entries(timer.stages)
      .filter(([k]) => k.startsWith('rollback-'))
      .map(([k, v]) => [k.slice('rollback-'.length), v]),
  );
  const release = releaseRecord(run, rollback.ok ? 'rolled-back' : 'failed', {
    rolledBackBy: rollbackId,
    holds: holds.map((h) => h.project),
  });
  release.stages = stagesWithRollback(timer);
  const restored = Object.entries(restorable)
    .map(([p, ref]) => `${p} → ${ref.split('@')[0]}`)
    .join(', ');
  return {
    exitCode: 1,
    records: [release, rollback.record],
    message: rollback.ok
      ? `${config.environment}: release ${id} failed (${failedProjects.join(', ')}); restored ${restored}; hold written for ${holds.map((h) => h.project).join(', ')}`
      : `${config.environment}: release ${id} failed and the rollback failed too: ${rollback.record.failures?.join('; ')}`,
  };
}

/** Everything after the lock: the stages in order; the outcome carries the records to append. */
async function releaseStages(
  deps: ReleaseDeps,
  options: ReleaseOptions,
  timer: StageTimer,
  startedAt: Date,
): Promise<ReleaseOutcome> {
  const { config, log } = deps;
  const id = newRecordId(config.environment, startedAt);
  await timer.time('prepare', () => deps.prepare());
  const start = await readStartingPoint(deps);
  const { imageRecords, plan } = await imagesAndPlan(deps, options, timer, start);
  // The deploy gate, before anything is written: every image that moves must verify.
  const verified = await verifyStep(
    deps.verifyImages,
    timer,
    Object.fromEntries(
      plan.changes
        .filter((c) => plan.moving.includes(c.project))
        .map((c) => [c.project, formatImageReference(c.reference)]),
    ),
  );
  const bump = await bumpOverlay(deps, options, plan, timer);
  const moved = ordered(config, bump?.images.filter((i) => i.changed).map((i) => i.project) ?? []);
  const drifted = await timer.time('drift', () => deps.cluster.drift(overlayDir(config, deps.repo), config.projects));
  const deploySet = ordered(config, [...moved, ...drifted]);
  if (deploySet.length === 0) {
    const message = `nothing to deploy: ${config.projects.map((p) => `${p} ${start.current[p]?.split('@')[0]?.split(':').pop() ?? '?'}`).join(', ')} already ${config.mode === 'gitops' ? 'pinned' : 'running'} in ${config.environment}`;
    const stages = Object.entries(timer.stages).map(([name, ms]) => `${name} ${formatDuration(ms)}`);
    log(`${message} (${stages.join(', ')})`);
    return { exitCode: 0, records: [], message };
  }
  const repaired = drifted.filter((p) => !moved.includes(p));
  if (repaired.length > 0) log(`re-applying ${repaired.join(', ')}: not running what the manifests say`);
  const refsNow = await readPinnedReferences(config, deps.repo);
  // Drift repairs re-apply what the overlay already pins: those images pass the gate too.
  for (const project of await verifyStep(
    deps.verifyImages,
    timer,
    Object.fromEntries(repaired.filter((p) => !verified.has(p)).map((p) => [p, refsNow[p] as string])),
    'verify-repair',
  ))
    verified.add(project);
  const run: ReleaseRun = {
    deps,
    timer,
    id,
    startedAt,
    current: start.current,
    imageRecords,
    plan,
    bump,
    moved,
    deploySet,
    refsNow,
    failures: [],
    outcomes: new Map(),
    verified,
    promotion: options.promotion,
  };
  await applyAndSmoke(run);
  if (run.failures.length > 0) return rollBackFailedRelease(run);
  return {
    exitCode: 0,
    records: [releaseRecord(run, 'succeeded')],
    message: `${config.environment}: deployed ${deploySet.join(', ')}`,
  };
}

/**
 * The release, under the environment's lock: prepare → images → bump → apply + smoke → (roll back
 * on failure). Whatever happened is appended to the history and notified before the lock goes.
 */
export async function runRelease(deps: ReleaseDeps, options: ReleaseOptions): Promise<ReleaseOutcome> {
  const timer = new StageTimer(deps.monotonic);
  const startedAt = deps.now();
  await timer.time('lock', () => deps.lock.acquire());
  let records: ReleaseRecord[] = [];
  try {
    const outcome = await releaseStages(deps, options, timer, startedAt);
    records = outcome.records;
    return outcome;
  } finally {
    try {
      await appendToHistory(deps, records);
      if (records.length > 0) await deps.notify(records);
    } finally {
      await deps.lock.release();
    }
  }
}

export interface RollbackOptions {
  to: string;
  projects?: string[];
  reason?: string;
}

export async function runRollback(deps: ReleaseDeps, options: RollbackOptions): Promise<ReleaseOutcome> {
  const { config, log } = deps;
  const target = parseRollbackTarget(options.to);
  const timer = new StageTimer(deps.monotonic);
  const startedAt = deps.now();
  const id = newRecordId(config.environment, startedAt);
  await timer.time('lock', () => deps.lock.acquire());
  let records: ReleaseRecord[] = [];
  try {
    await timer.time('prepare', () => deps.prepare());
    const current = await readPinnedReferences(deps.config, deps.repo);
    const history = await readHistory(deps.config, deps.repo);
    const projects = options.projects && options.projects.length > 0 ? options.projects : config.projects;
    let atCommit: Record<string, string> | undefined;
    if (target.kind === 'commit') {
      const text = await deps.repo.readAt(target.commit, overlayFile(config));
      if (text === undefined)
        throw new DeliveryInputError(
          `commit ${target.commit} is not in ${deps.repo.describe()} or has no ${overlayFile(config)}`,
          'pass a commit of the GitOps branch (git log -- <overlay>)',
        );
      atCommit = referencesIn(overlayFile(config), text);
    }
    const refs = resolveRollbackReferences({
      target,
      projects,
      projectsExplicit: !!options.projects?.length,
      records: history,
      current,
      atCommit,
      historyFile: historyFilePath(config.historyDir, config.environment),
    });
    const targets = Object.fromEntries(Object.entries(refs).filter(([p, ref]) => current[p] !== ref));
    if (Object.keys(targets).length === 0) {
      const message = `${config.environment} already runs the rollback target (${Object.entries(refs)
        .map(([p, r]) => `${p} ${r.split('@')[0]?.split(':').pop()}`)
        .join(', ')}): nothing to roll back`;
      log(message);
      return { exitCode: 0, records: [], message };
    }
    await timer.time('verify', async () => {
      const missing: string[] = [];
      for (const ref of Object.values(targets)) if (!(await deps.registry.exists(ref))) missing.push(ref);
      if (missing.length > 0) {
        throw new DeliveryInputError(
          `the registry no longer has ${missing.join(', ')}: rolling back to it would leave the environment unable to pull`,
          'pick another --to (nx run deploy:status lists the history), or push that image again',
        );
      }
    });
    log(
      `rolling back ${Object.entries(targets)
        .map(([p, r]) => `${p} ${current[p]?.split('@')[0]?.split(':').pop()} → ${r.split('@')[0]?.split(':').pop()}`)
        .join(', ')}`,
    );
    const reason = options.reason?.trim() || `rollback --to=${options.to}`;
    const since = deps.now().toISOString();
    const rollback = await restore(deps, {
      id,
      targets,
      holds: Object.entries(targets).map(([project, reference]) => ({
        project,
        reference,
        reason: `${reason} (by ${deps.actor})`,
        since,
      })),
      body: `Rollback of ${config.environment} to ${options.to} requested by ${deps.actor}: ${reason}`,
      trigger: deps.trigger,
      reason,
      rollbackOf: options.to,
      timer,
      prefix: '',
      startedAt,
    });
    rollback.record.stages = { ...timer.stages };
    records = [rollback.record];
    return {
      exitCode: rollback.ok ? 0 : 1,
      records,
      message: rollback.ok
        ? `${config.environment}: rolled back ${Object.keys(targets).join(', ')}; hold written (the next deploy that names them, or --release-hold, releases it)`
        : `${config.environment}: rollback ${id} failed: ${rollback.record.failures?.join('; ')}`,
    };
  } finally {
    try {
      await appendToHistory(deps, records);
      if (records.length > 0) await deps.notify(records);
    } finally {
      await deps.lock.release();
    }
  }
}
