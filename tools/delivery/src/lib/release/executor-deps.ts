import type { ExecutorContext } from '@nx/devkit';
import { consoleOutput, type Output } from '../shared/output';
import type { EnvironmentConfig } from './environment';
import type { ReleaseDeps } from './release';
import { wireRelease, workspaceProjects } from './wire';

/** What the deploy and rollback executors need: the release's adapters (swappable) and an output. */
export interface ReleaseExecutorDeps extends Output {
  wire: (
    config: EnvironmentConfig,
    context: ExecutorContext,
    log: (line: string) => void,
    trigger: string,
  ) => Promise<ReleaseDeps>;
}

export const hostReleaseDeps: ReleaseExecutorDeps = {
  wire: (config, context, log, trigger) =>
    wireRelease({
      workspaceRoot: context.root,
      config,
      projectRoots: workspaceProjects(context).roots,
      log,
      trigger,
    }),
  ...consoleOutput,
};
