import type { ExecutorContext } from '@nx/devkit';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { resolveEnvironment, type EnvironmentOptions } from '../../lib/release/environment';
import { collectStatus, renderStatus, type EnvironmentStatus } from '../../lib/release/status';
import { collectOverview } from '../../lib/release/status-overview';
import { renderStatusHtml, renderStatusText, type StatusReport } from '../../lib/release/status-report';
import { environmentOptions, workspaceProjects } from '../../lib/release/wire';
import { consoleOutput, failureLine, type Output } from '../../lib/shared/output';
import type { ReleaseStatusExecutorSchema } from './schema';

/**
 * `nx run deploy:status --env=<env>`: options → environment config → what the environment pins,
 * holds, did and runs (lib/release/status.ts) → print. Without --env (or with --format=html): every
 * environment side by side and what is ready to promote (lib/release/status-overview.ts). Read-only,
 * except the html page it writes.
 */
export interface ReleaseStatusExecutorDeps extends Output {
  collect: (
    config: Parameters<typeof collectStatus>[0],
    workspaceRoot: string,
    records: number,
  ) => Promise<EnvironmentStatus>;
}

const hostDeps: ReleaseStatusExecutorDeps = { collect: collectStatus, ...consoleOutput };

const STATUS_OPTIONS = new Set(['env', 'environment', 'records', 'json', 'format', 'environments', 'output']);

/** The options that describe an environment (the rest are about what status prints). */
function environmentOverrides(options: ReleaseStatusExecutorSchema): EnvironmentOptions {
  return Object.fromEntries(Object.entries(options).filter(([key]) => !STATUS_OPTIONS.has(key))) as EnvironmentOptions;
}

export async function runReleaseStatusExecutor(
  options: ReleaseStatusExecutorSchema,
  context: ExecutorContext,
  deps: ReleaseStatusExecutorDeps = hostDeps,
): Promise<{ success: boolean; status?: EnvironmentStatus; report?: StatusReport }> {
  try {
    const format = options.format ?? (options.json ? 'json' : 'text');
    const overrides = environmentOverrides(options);
    if ((!options.env && !options.environment) || format === 'html') {
      const report = await collectOverview(
        { environments: options.environments, projects: options.projects, overrides },
        context,
        deps.collect,
      );
      if (format === 'html') {
        const file = resolve(context.root, options.output ?? 'dist/deploy-status/index.html');
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, renderStatusHtml(report));
        deps.log(`deploy status page: ${file}`);
      } else deps.log(format === 'json' ? JSON.stringify(report, null, 2) : renderStatusText(report));
      return { success: true, report };
    }
    const config = resolveEnvironment(
      {
        ...environmentOptions(context, options.environment ?? options.env, overrides),
        env: undefined,
      },
      {
        workspaceRoot: context.root,
        deployableProjects: workspaceProjects(context).deployable,
      },
    );
    const status = await deps.collect(config, context.root, options.records ?? 10);
    deps.log(format === 'json' ? JSON.stringify(status, null, 2) : renderStatus(status));
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
