import type { ExecutorContext } from '@nx/devkit';
import { resolveEnvironment } from '../../lib/release/environment';
import { splitList } from '../../lib/shared/list';
import { runRollback, type ReleaseOutcome } from '../../lib/release/release';
import { hostReleaseDeps, type ReleaseExecutorDeps } from '../../lib/release/executor-deps';
import { environmentOptions, workspaceProjects } from '../../lib/release/wire';
import { failureLine } from '../../lib/shared/output';
import type { RollbackExecutorSchema } from './schema';

/**
 * `nx run deploy:rollback --env=<env> --to=<previous | record id | commit> [--projects=a,b] [--reason=…]`.
 * The environment's settings are those of its deploy target (deploy:<env>); options here override.
 */
export type RollbackExecutorDeps = ReleaseExecutorDeps;

export async function runRollbackExecutor(
  options: RollbackExecutorSchema,
  context: ExecutorContext,
  deps: RollbackExecutorDeps = hostReleaseDeps,
): Promise<{ success: boolean; outcome?: ReleaseOutcome }> {
  try {
    const { env, environment, to, reason, projects, ...overrides } = options;
    const name = environment ?? env;
    // --projects selects what to roll back; the environment's own project list stays the deploy target's.
    const config = resolveEnvironment(
      { ...environmentOptions(context, name, overrides), env: undefined },
      {
        workspaceRoot: context.root,
        deployableProjects: workspaceProjects(context).deployable,
      },
    );
    const selected = splitList(projects);
    const unknown = selected.filter((p) => !config.projects.includes(p));
    if (unknown.length > 0) {
      deps.error(
        `rollback failed: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not deployed to ${config.environment}\n  fix: use some of: ${config.projects.join(', ')}`,
      );
      return { success: false };
    }
    const trigger = `nx run ${context.projectName ?? 'deploy'}:${context.targetName ?? 'rollback'} --env=${config.environment} --to=${to}`;
    const releaseDeps = await deps.wire(config, context, deps.log, trigger);
    const outcome = await runRollback(releaseDeps, {
      to,
      projects: selected,
      reason,
    }).finally(() => releaseDeps.cluster.close?.());
    (outcome.exitCode === 0 ? deps.log : deps.error)(outcome.message);
    return { success: outcome.exitCode === 0, outcome };
  } catch (error) {
    deps.error(failureLine('rollback', error));
    return { success: false };
  }
}

export default async function rollbackExecutor(
  options: RollbackExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await runRollbackExecutor(options, context);
  return { success };
}
