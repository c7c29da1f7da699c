import { existsSync } from 'node:fs';
import type { WorkloadStatus } from '../cluster/types';
import type { Hold } from '../gitops/holds';
import type { EnvironmentConfig } from './environment';
import { overlayDir, readHistory, readHolds, readPinnedReferences } from './environment-state';
import { latestRecords, type ReleaseRecord } from './history';
import { localGitOpsPaths } from './local-gitops';
import { shortReference } from './summary';
import { localUrls, openCluster, openRepository } from './wire';

/** `nx run deploy:status --env=<env>`: what the environment pins, holds, did, and runs. Read-only. */
export type HealthAnswer = { version?: string; revision?: string; status?: string } | string;

export interface EnvironmentStatus {
  environment: string;
  mode: string;
  repository: string;
  head?: string;
  references: Record<string, string>;
  holds: Hold[];
  records: ReleaseRecord[];
  workloads: (WorkloadStatus & { health?: HealthAnswer })[];
}

async function health(url: string): Promise<HealthAnswer> {
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

async function workloadsOf(
  config: EnvironmentConfig,
  dir: string | undefined,
): Promise<EnvironmentStatus['workloads']> {
  let workloads: EnvironmentStatus['workloads'];
  try {
    workloads = await openCluster(config).status(dir, config.projects);
  } catch (error) {
    workloads = config.projects.map((project) => ({
      project,
      state: 'unknown',
      detail: (error as Error).message.split('\n')[0],
    }));
  }
  const urls = localUrls(config);
  for (const w of workloads) if (urls[w.project]) w.health = await health(urls[w.project] as string);
  return workloads;
}

/** Read the environment's GitOps state (pins, holds, the latest `records` history records) and what runs. */
export async function collectStatus(
  config: EnvironmentConfig,
  workspaceRoot: string,
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
    workspaceRoot,
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
    status.references = await readPinnedReferences(config, repo, { optional: true });
    status.holds = await readHolds(config, repo);
    status.records = latestRecords(await readHistory(config, repo), records);
  }
  status.workloads = await workloadsOf(config, localMissing ? undefined : overlayDir(config, repo));
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
