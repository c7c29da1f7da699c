import type { ExecutorContext } from '@nx/devkit';
import { resolveEnvironment } from '../../lib/release/environment';
import { collectStatus, renderStatus, type EnvironmentStatus } from '../../lib/release/status';
import { environmentOptions, workspaceProjects } from '../../lib/release/wire';
import { consoleOutput, failureLine, type Output } from '../../lib/shared/output';
import type { ReleaseStatusExecutorSchema } from './schema';

/**
 * `nx run deploy:status --env=<env>`: options → environment config → what the environment pins,
 * holds, did and runs (lib/release/status.ts) → print. Read-only.
 */
export interface ReleaseStatusExecutorDeps extends Output {
  collect: (
    config: Parameters<typeof collectStatus>[0],
    workspaceRoot: string,
    records: number,
  ) => Promise<EnvironmentStatus>;
}

const hostDeps: ReleaseStatusExecutorDeps = { collect: collectStatus, ...consoleOutput };

export async function runReleaseStatusExecutor(
  options: ReleaseStatusExecutorSchema,
  context: ExecutorContext,
  deps: ReleaseStatusExecutorDeps = hostDeps,
): Promise<{ success: boolean; status?: EnvironmentStatus }> {
  try {
    const { env, environment, records, json, ...overrides } = options;
    const config = resolveEnvironment(
      {
        ...environmentOptions(context, environment ?? env, overrides),
        env: undefined,
      },
      {
        workspaceRoot: context.root,
        deployableProjects: workspaceProjects(context).deployable,
      },
    );
    const status = await deps.collect(config, context.root, records ?? 10);
    deps.log(json ? JSON.stringify(status, null, 2) : renderStatus(status));
    return { success: true, status };
  } catch (error) {
    deps.error(failureLine('status', error));
    return { success: false };
  }
}

export default async function releaseStatusExecutor(
  options: ReleaseStatusExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await runReleaseStatusExecutor(options, context);
  return { success };
}
