import type { ExecutorContext } from '@nx/devkit';
import { hostImageDeps, runImageTask, type ImageTaskDeps } from '../../lib/image/image-task';
import type { WrittenImageRecord } from '../../lib/image/record';
import type { ImageExecutorSchema } from './schema';

/**
 * `nx run <project>:image`: options and the Nx task → the image task (lib/image/image-task.ts:
 * checks, secrets, registry auth, reuse by content tag, build and push, digest checks, record).
 */
export type ImageExecutorDeps = ImageTaskDeps;
export const hostDeps: ImageExecutorDeps = hostImageDeps;

/** The Nx task hash of this very task: the content tag is made from it. */
export function taskHashOf(context: ExecutorContext): string | undefined {
  const tasks = context.taskGraph?.tasks ?? {};
  const withConfig = `${context.projectName}:${context.targetName}${context.configurationName ? `:${context.configurationName}` : ''}`;
  const task =
    tasks[withConfig] ??
    tasks[`${context.projectName}:${context.targetName}`] ??
    Object.values(tasks).find(
      (t) => t.target.project === context.projectName && t.target.target === context.targetName,
    );
  return task?.hash;
}

export async function runImageExecutor(
  options: ImageExecutorSchema,
  context: ExecutorContext,
  deps: ImageExecutorDeps = hostDeps,
): Promise<{ success: boolean; record?: WrittenImageRecord }> {
  const project = context.projectName as string;
  return runImageTask(
    options,
    {
      workspaceRoot: context.root,
      project,
      projectRoot: context.projectsConfigurations?.projects[project]?.root,
      targetName: context.targetName,
      taskHash: taskHashOf(context),
    },
    deps,
  );
}

export default async function imageExecutor(
  options: ImageExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
  const { success } = await runImageExecutor(options, context);
  return { success };
}
