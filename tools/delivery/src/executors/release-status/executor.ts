import type { ExecutorContext } from '@nx/devkit';
import { existsSync } from 'node:fs';
import { holdFilePath, parseHoldFile, type Hold } from '../../lib/gitops/holds';
import { formatImageReference } from '../../lib/image/reference';
import { readImageTarget } from '../../lib/manifests/image-targets';
import { resolveEnvironment, type EnvironmentConfig } from '../../lib/release/environment';
import { historyFilePath, latestRecords, parseHistory, type ReleaseRecord } from '../../lib/release/history';
import { localGitOpsPaths } from '../../lib/release/local-gitops';
import { shortReference } from '../../lib/release/summary';
import { environmentOptions, localUrls, openCluster, openRepository, workspaceProjects } from '../../lib/release/wire';
import type { WorkloadStatus } from '../../lib/cluster/types';
import type { ReleaseStatusExecutorSchema } from './schema';

/** `nx run deploy:status --env=<env>`: what the environment pins, holds, did, and runs. Read-only. */
export interface EnvironmentStatus {
  environment: string;
  mode: string;
  repository: string;
  head?: string;
  references: Record<string, string>;
  holds: Hold[];
  records: ReleaseRecord[];
  workloads: (WorkloadStatus & {
    health?: { version?: string; revision?: string; status?: string } | string;
  })[];
}

async function health(url: string): Promise<{ version?: string; revision?: string; status?: string } | string> {
  try {
    const response = await fetch(`${url}/health`, {
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return `HTTP ${response.status}`;
    return (await response.json()) as {
      version?: string;
      revision?: string;
      status?: string;
    };
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
  }
}

export async function collectStatus(
  config: EnvironmentConfig,
  context: ExecutorContext,
  records: number,
): Promise<EnvironmentStatus> {
  const status: EnvironmentStatus = {
    environment: config.environment,
    mode: config.mode,
    repository: '',
    references: {},
    holds: [],
    records: [],
    workloads: [],
  };
  const { repo } = openRepository({
    workspaceRoot: context.root,
    config,
    projectRoots: {},
    log: () => undefined,
    trigger: 'status',
  });
  status.repository = repo.describe();
  const localMissing =
    config.repository === 'local' && !existsSync(localGitOpsPaths(config.stateDir, config.environment).root);
  if (!localMissing) {
    await repo.refresh();
    status.head = repo.head();
    const overlay = `${config.overlaysDir}/${config.environment}/kustomization.yaml`;
    const text = await repo.read(overlay);
    if (text !== undefined) {
      for (const e of readImageTarget({ kind: 'kustomize', file: overlay }, text))
        status.references[e.project] = formatImageReference(e.reference);
    }
    const holdsFile = holdFilePath(config.holdsDir, config.environment);
    const holdsText = await repo.read(holdsFile);
    if (holdsText !== undefined) status.holds = parseHoldFile(holdsText, holdsFile, config.environment).holds;
    const historyFile = historyFilePath(config.historyDir, config.environment);
    const historyText = await repo.read(historyFile);
    if (historyText !== undefined) status.records = latestRecords(parseHistory(historyText, historyFile), records);
  }
  const checkout = repo.checkout();
  const overlayDir = checkout && !localMissing ? `${checkout}/${config.overlaysDir}/${config.environment}` : undefined;
  const cluster = openCluster(config);
  try {
    status.workloads = await cluster.status(overlayDir, config.projects);
  } catch (error) {
    status.workloads = config.projects.map((project) => ({
      project,
      state: 'unknown',
      detail: (error as Error).message.split('\n')[0],
    }));
  }
  const urls = localUrls(config);
  for (const w of status.workloads)
    if (urls[w.project]) (w as EnvironmentStatus['workloads'][number]).health = await health(urls[w.project] as string);
  return status;
}

export function renderStatus(status: EnvironmentStatus): string {
  const lines = [
    `${status.environment} (mode ${status.mode}) — GitOps ${status.repository}${status.head ? ` at ${status.head.slice(0, 12)}` : ' (not created yet: run nx run deploy:' + status.environment + ')'}`,
  ];
  lines.push('', 'project    pinned                 running');
  for (const w of status.workloads) {
    const h =
      typeof w.health === 'string'
        ? w.health
        : w.health
          ? `${w.health.status ?? '?'} v${w.health.version ?? '?'} ${w.health.revision?.slice(0, 7) ?? ''}`
          : '';
    lines.push(
      `${w.project.padEnd(10)} ${shortReference(status.references[w.project]).padEnd(22)} ${w.state}${w.current === false ? ' (outdated)' : ''}${h ? `, ${h}` : ''}`,
    );
  }
  lines.push('', status.holds.length === 0 ? 'holds: none' : 'holds:');
  for (const h of status.holds)
    lines.push(`  ${h.project} at ${shortReference(h.reference)} since ${h.since}: ${h.reason}`);
  lines.push('', status.records.length === 0 ? 'history: none' : 'history (newest first):');
  for (const r of status.records) {
    lines.push(
      `  ${r.id}  ${r.kind} ${r.result}  ${r.projects.map((p) => `${p.project} ${shortReference(p.from)}→${shortReference(p.to)}`).join(', ')}  by ${r.actor}`,
    );
  }
  return lines.join('\n');
}

export default async function releaseStatusExecutor(
  options: ReleaseStatusExecutorSchema,
  context: ExecutorContext,
): Promise<{ success: boolean }> {
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
    const status = await collectStatus(config, context, records ?? 10);
    console.log(json ? JSON.stringify(status, null, 2) : renderStatus(status));
    return { success: true };
  } catch (error) {
    console.error(`status failed: ${error instanceof Error ? error.message : String(error)}`);
    return { success: false };
  }
}
