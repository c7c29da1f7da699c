import type { ExecutorContext } from '@nx/devkit';
import { parseDuration } from '../shared/duration';
import { DeliveryInputError } from '../shared/errors';
import { splitList } from '../shared/list';
import { resolveEnvironment, type EnvironmentOptions } from './environment';
import type { EnvironmentStatus } from './status';
import { buildStatusReport, type EnvironmentSnapshot, type Promotion, type StatusReport } from './status-report';
import { environmentOptions, workspaceProjects } from './wire';

/**
 * `deploy:status` without --env: every deploy:<env> target of the project side by side, read with
 * the same per-environment collector as `--env`, and what is ready to promote (the promotion
 * settings, promoteFrom and soak, of each target).
 */
export type CollectStatus = (
  config: ReturnType<typeof resolveEnvironment>,
  workspaceRoot: string,
  records: number,
) => Promise<EnvironmentStatus>;

/** Every deploy:<env> target of the project (the deploy executor), in the order the project lists them. */
function deployTargets(context: ExecutorContext): { name: string; options: Record<string, unknown> }[] {
  const project = context.projectName ? context.projectsConfigurations?.projects[context.projectName] : undefined;
  return Object.entries(project?.targets ?? {})
    .filter(([, t]) => t.executor === '@slipway/delivery:deploy')
    .map(([name, t]) => ({ name, options: (t.options ?? {}) as Record<string, unknown> }));
}

export async function collectOverview(
  args: { environments?: string; projects?: string[] | string; overrides: EnvironmentOptions },
  context: ExecutorContext,
  collect: CollectStatus,
  now: Date = new Date(),
): Promise<StatusReport> {
  const targets = deployTargets(context);
  const wanted = args.environments ? splitList(args.environments) : targets.map((t) => t.name);
  const unknown = wanted.filter((name) => !targets.some((t) => t.name === name));
  if (unknown.length > 0)
    throw new DeliveryInputError(
      `unknown environment${unknown.length === 1 ? '' : 's'} ${unknown.map((u) => `'${u}'`).join(', ')}`,
      `use deploy targets of ${context.projectName}: ${targets.map((t) => t.name).join(', ')}`,
    );
  const snapshots: EnvironmentSnapshot[] = [];
  const deployable = workspaceProjects(context).deployable;
  for (const name of wanted) {
    const config = resolveEnvironment(
      { ...environmentOptions(context, name, args.overrides), env: undefined },
      { workspaceRoot: context.root, deployableProjects: deployable },
    );
    const status = await collect(config, context.root, 200);
    snapshots.push({
      environment: name,
      mode: config.mode,
      references: status.references,
      holds: status.holds,
      history: [...status.records].reverse(),
      running: Object.fromEntries(
        status.workloads.map((w) => [
          w.project,
          `${w.state}${w.health && typeof w.health === 'object' ? ` v${w.health.version ?? '?'}` : ''}`,
        ]),
      ),
    });
  }
  const promotions: Promotion[] = targets
    .filter((t) => wanted.includes(t.name) && typeof t.options['promoteFrom'] === 'string')
    .map((t) => ({
      source: t.options['promoteFrom'] as string,
      target: t.name,
      soakMs: t.options['soak'] ? parseDuration(String(t.options['soak']), `deploy:${t.name} soak`) : 0,
    }));
  const projects = args.projects ? splitList(args.projects) : deployable;
  return buildStatusReport({ snapshots, promotions, projects, now });
}
