import type { ExecutorContext } from '@nx/devkit';
import { applyClusterEnv } from '../../lib/cluster/cluster-env';
import { IMAGE_RECORDS_DIR } from '../../lib/image/record';
import { DeliveryInputError } from '../../lib/shared/errors';
import { resolveEnvironment, type EnvironmentConfig } from '../../lib/release/environment';
import { runRelease, type ReleaseOutcome } from '../../lib/release/release';
import { hostReleaseDeps, type ReleaseExecutorDeps } from '../../lib/release/executor-deps';
import { localUrls, openCluster, workspaceProjects } from '../../lib/release/wire';
import { failureLine } from '../../lib/shared/output';
import { createPromotion, planFromRepository, promotionSettings, readPins } from '../../lib/release/promotion-step';
import { describePromotion } from '../../lib/release/promotion';
import type { DeployExecutorSchema } from './schema';

/**
 * `nx run deploy:<env>`: options → environment config → the release (lib/release/release.ts).
 * `wire` is swappable so tests can run the executor against fake adapters.
 */
export type DeployExecutorDeps = ReleaseExecutorDeps;

function describe(config: EnvironmentConfig): string {
  const lines = [
    `environment ${config.environment} (mode ${config.mode})`,
    `  projects: ${config.projects.join(', ')}`,
    `  registry: ${config.registry}`,
    `  GitOps repository: ${config.repository === 'local' ? `${config.stateDir}/${config.environment}/repo (local, remote ${config.stateDir}/${config.environment}/remote.git)` : `${config.remote}${config.branch ? ` ${config.branch}` : ''}`}`,
    `  steps: ${config.images === 'build' ? `${config.prereqs ? 'local prerequisites, ' : ''}nx run-many -t image` : `image records from ${IMAGE_RECORDS_DIR}`} → bump ${config.overlaysDir}/${config.environment} → ${config.mode === 'podman' ? 'podman kube play' : config.mode === 'kubectl' ? 'kubectl apply --server-side (prune) + rollout wait on pod states' : `push + wait (argocd app ${config.argocdApp} or smoke version gate)`} → smoke${config.autoRollback ? ' → rollback + hold on failure' : ''}`,
  ];
  const urls = localUrls(config);
  if (Object.keys(urls).length > 0)
    lines.push(
      `  urls: ${Object.entries(urls)
        .map(([p, u]) => `${p} ${u}`)
        .join(', ')}`,
    );
  return lines.join('\n');
}

export async function runDeployExecutor(
  options: DeployExecutorSchema,
  context: ExecutorContext,
  deps: DeployExecutorDeps = hostReleaseDeps,
): Promise<{ success: boolean; outcome?: ReleaseOutcome }> {
  try {
    const config = resolveEnvironment(applyClusterEnv(options, context.root), {
      workspaceRoot: context.root,
      deployableProjects: workspaceProjects(context).deployable,
    });
    const promotion = promotionSettings(options, config, deps.log);
    if (options.dryRun && promotion) {
      // The plan needs both environments' state: read it (no lock, no commit, nothing started).
      const { repo, prepare } = await deps.wire(config, context, deps.log, 'dry run');
      await prepare();
      const plan = await planFromRepository(
        promotion,
        (file) => repo.read(file),
        (await readPins((file) => repo.read(file), config.overlaysDir, config.environment)) ?? {},
      );
      deps.log(`dry run: nothing is committed or started\n${describePromotion(plan)}`);
      return { success: plan.refused.length === 0 };
    }
    if (options.dryRun) {
      deps.log(`dry run: nothing is built, committed or started\n${describe(config)}`);
      return { success: true };
    }
    if (options.down) {
      const cluster = openCluster(config);
      if (!cluster.down)
        throw new DeliveryInputError(
          `--down stops what this machine runs; mode ${config.mode} is managed elsewhere`,
          'use it with the podman (local) environment',
        );
      const removed = await cluster.down(config.projects);
      deps.log(removed.length > 0 ? `removed ${removed.join(', ')}` : `nothing of ${config.instance} is running`);
      return { success: true };
    }
    const trigger = `nx run ${context.projectName ?? 'deploy'}:${context.targetName ?? config.environment}`;
    const releaseDeps = await deps.wire(config, context, deps.log, trigger);
    deps.log(describe(config));
    const outcome = await runRelease(releaseDeps, {
      releaseHold: options.releaseHold === true,
      ...(promotion ? { promotion: createPromotion(promotion) } : {}),
    }).finally(() => releaseDeps.cluster.close?.());
    (outcome.exitCode === 0 ? deps.log : deps.error)(outcome.message);
    return { success: outcome.exitCode === 0, outcome };
  } catch (error) {
    deps.error(failureLine('deploy', error));
    return { success: false };
  }
}

export default async function deployExecutor(
  options: DeployExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await runDeployExecutor(options, context);
  return { success };
}
