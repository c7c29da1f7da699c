import type { ExecutorContext } from '@nx/devkit';
import * as path from 'node:path';
import { applyBump, type ApplyBumpResult } from '../../lib/gitops/apply-bump';
import { assertUniqueProjects, parseSetPair, changesFromImageRecords } from '../../lib/gitops/bump-request';
import { resolveWorkspaceDir, workingTreeLookup } from '../../lib/gitops/workspace-paths';
import { IMAGE_RECORDS_DIR } from '../../lib/image/record';
import { DeliveryInputError } from '../../lib/shared/errors';
import { splitList } from '../../lib/shared/list';
import { consoleOutput, failureLine, type Output } from '../../lib/shared/output';
import type { ImageChange, ImageTarget } from '../../lib/manifests/image-targets';
import type { BumpExecutorSchema, BumpTargetOption } from './schema';

function toTarget(t: BumpTargetOption, index: number): ImageTarget {
  if (t.kind === 'helm') {
    if (!t.project || !t.path) {
      throw new DeliveryInputError(
        `targets[${index}] (helm, ${t.file}) needs "project" and "path"`,
        'e.g. { "kind": "helm", "file": "deploy/helm/values-staging.yaml", "project": "catalog", "path": "catalog.image" }',
      );
    }
    return { kind: 'helm', file: t.file, project: t.project, path: t.path, keys: t.keys };
  }
  return { kind: t.kind, file: t.file };
}

export async function resolveChanges(
  options: BumpExecutorSchema,
  workspaceRoot: string,
  explicitRecords: boolean,
): Promise<ImageChange[]> {
  const set = splitList(options.set).map(parseSetPair);
  const useRecords = set.length === 0 || explicitRecords;
  const recordsDir = options.records ?? IMAGE_RECORDS_DIR;
  if (useRecords) await resolveWorkspaceDir(recordsDir, '--records', await workingTreeLookup(workspaceRoot));
  const fromRecords = useRecords
    ? await changesFromImageRecords(path.resolve(workspaceRoot, recordsDir), {
        projects: splitList(options.projects).length > 0 ? splitList(options.projects) : undefined,
        prefer: options.tagPreference,
        displayDir: recordsDir,
      })
    : [];
  const changes = [...fromRecords, ...set];
  assertUniqueProjects(changes);
  return changes;
}

export function formatSummary(result: ApplyBumpResult, dryRun: boolean): string {
  const lines: string[] = [];
  for (const image of result.images) {
    lines.push(
      image.changed
        ? `  ${image.project}: ${image.previous}\n    → ${image.next}`
        : `  ${image.project}: up to date (${image.next})`,
    );
  }
  for (const p of result.releasedHolds) lines.push(`  hold released: ${p}`);
  if (!result.changed) return `${result.environment} is up to date; nothing to commit\n${lines.join('\n')}`;
  if (dryRun)
    return `dry run: ${result.environment} would change\n${lines.join('\n')}\n\n${result.diff}\ncommit message:\n${result.message ?? ''}`;
  const where = result.pushed
    ? ` pushed to ${result.remote} ${result.branch} (${result.pushAttempts} attempt${result.pushAttempts === 1 ? '' : 's'})`
    : '';
  return [
    `${result.environment} bumped${result.commit ? ` in ${result.commit.slice(0, 12)}` : ''}${where}`,
    ...lines,
    ...result.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

/** `nx run deploy:bump`: options → image changes → one GitOps commit (lib/gitops/apply-bump.ts) → print. */
export interface BumpExecutorDeps extends Output {
  env: NodeJS.ProcessEnv;
}

const hostDeps: BumpExecutorDeps = { env: process.env, ...consoleOutput };

export async function runBumpExecutor(
  options: BumpExecutorSchema,
  context: ExecutorContext,
  deps: BumpExecutorDeps = hostDeps,
): Promise<{ success: boolean; result?: ApplyBumpResult }> {
  const tokenEnv = options.tokenEnv ?? 'GITOPS_TOKEN';
  try {
    const explicitRecords = options.records !== undefined && options.records !== IMAGE_RECORDS_DIR;
    const changes = await resolveChanges(options, context.root, explicitRecords);
    const result = await applyBump({
      workspaceRoot: context.root,
      environment: options.environment,
      changes,
      targets: options.targets?.map(toTarget),
      overlaysDir: options.overlaysDir,
      holdsDir: options.holdsDir,
      releaseHolds: options.releaseHold === true,
      dryRun: options.dryRun === true,
      git: {
        commit: options.commit !== false,
        push: options.push !== false,
        remote: options.remote,
        branch: options.branch,
        token: deps.env[tokenEnv] || undefined,
        tokenUser: options.tokenUser,
        maxAttempts: options.maxPushAttempts,
        retryBaseMs: options.retryBaseMs,
      },
      log: deps.log,
    });
    // A dry run shows the message that would be committed too, for review.
    deps.log(formatSummary(result, options.dryRun === true));
    return { success: true, result };
  } catch (error) {
    deps.error(failureLine('bump', error));
    return { success: false };
  }
}

export default runBumpExecutor;
