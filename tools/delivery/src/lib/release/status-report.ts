import type { Hold } from '../gitops/holds';
import type { ReleaseRecord, SmokeResult } from './history';
import { planPromotion } from './promotion';

/**
 * `deploy:status` across environments, decided without I/O: per project, what each environment
 * pins, which version, since when, its last smoke, its hold, and whether it is ready to promote to
 * the next environment (the same rules `deploy:production` applies).
 */
export interface EnvironmentSnapshot {
  environment: string;
  mode: string;
  references: Record<string, string>;
  holds: Hold[];
  /** Oldest first. */
  history: ReleaseRecord[];
  /** What runs, when the environment can tell (podman /health, kubectl/argocd state). */
  running?: Record<string, string>;
}

export interface Promotion {
  source: string;
  target: string;
  soakMs: number;
}

export interface CellStatus {
  reference?: string;
  digest?: string;
  tag?: string;
  version?: string;
  /** When the pinned digest was deployed here (finish of the release that moved it). */
  since?: string;
  record?: string;
  lastSmoke?: SmokeResult;
  hold?: { reference: string; reason: string; since: string };
  running?: string;
}

export interface PromotionStatus {
  source: string;
  target: string;
  /** ready: would be promoted now; current: target runs it already; blocked: refused (reason). */
  state: 'ready' | 'current' | 'blocked';
  detail: string;
}

export interface ProjectStatus {
  project: string;
  environments: Record<string, CellStatus>;
  promotions: PromotionStatus[];
}

export interface StatusReport {
  generatedAt: string;
  environments: { name: string; mode: string }[];
  projects: ProjectStatus[];
}

const digestOf = (reference: string | undefined) => reference?.split('@')[1];

function cell(snapshot: EnvironmentSnapshot, project: string): CellStatus {
  const reference = snapshot.references[project];
  if (!reference) return {};
  const digest = digestOf(reference);
  const tag = /:([^:@/]+)@/.exec(reference)?.[1];
  const status: CellStatus = { reference, ...(digest ? { digest } : {}), ...(tag ? { tag } : {}) };
  for (let i = snapshot.history.length - 1; i >= 0; i--) {
    const record = snapshot.history[i] as ReleaseRecord;
    const entry = record.projects.find((p) => p.project === project && digestOf(p.to) === digest);
    if (!entry) continue;
    if (status.lastSmoke === undefined) {
      status.lastSmoke = entry.smoke;
      status.record = record.id;
      status.since = record.finishedAt;
    } else status.since = record.finishedAt; // the earliest of the uninterrupted run of this digest
    if (entry.version && !status.version) status.version = entry.version;
    if (entry.from && digestOf(entry.from) !== digest) break;
  }
  const hold = snapshot.holds.find((h) => h.project === project);
  if (hold) status.hold = { reference: hold.reference, reason: hold.reason, since: hold.since };
  const running = snapshot.running?.[project];
  if (running) status.running = running;
  return status;
}

function promotionStatus(
  promotion: Promotion,
  source: EnvironmentSnapshot,
  target: EnvironmentSnapshot,
  project: string,
  now: Date,
): PromotionStatus {
  const base = { source: promotion.source, target: promotion.target };
  try {
    const plan = planPromotion({
      source: promotion.source,
      target: promotion.target,
      projects: [project],
      sourceReferences: source.references,
      sourceHistory: source.history,
      targetReferences: target.references,
      soakMs: promotion.soakMs,
      now,
    });
    if (plan.unchanged.length > 0) return { ...base, state: 'current', detail: `${promotion.target} runs it` };
    const refusal = plan.refused[0];
    if (refusal) return { ...base, state: 'blocked', detail: `${refusal.reason}: ${refusal.detail}` };
    const hold = target.holds.find((h) => h.project === project);
    if (hold)
      return {
        ...base,
        state: 'blocked',
        detail: `held in ${promotion.target} since ${hold.since}: ${hold.reason} (name it with --projects to release the hold)`,
      };
    return { ...base, state: 'ready', detail: `verified in ${promotion.source} by ${plan.promote[0]?.sourceRecord}` };
  } catch (error) {
    return { ...base, state: 'blocked', detail: (error as Error).message.split('\n')[0] ?? '' };
  }
}

export function buildStatusReport(input: {
  snapshots: EnvironmentSnapshot[];
  promotions: Promotion[];
  projects: string[];
  now: Date;
}): StatusReport {
  const byName = new Map(input.snapshots.map((s) => [s.environment, s]));
  return {
    generatedAt: input.now.toISOString(),
    environments: input.snapshots.map((s) => ({ name: s.environment, mode: s.mode })),
    projects: input.projects.map((project) => ({
      project,
      environments: Object.fromEntries(input.snapshots.map((s) => [s.environment, cell(s, project)])),
      promotions: input.promotions
        .filter((p) => byName.has(p.source) && byName.has(p.target))
        .map((p) =>
          promotionStatus(
            p,
            byName.get(p.source) as EnvironmentSnapshot,
            byName.get(p.target) as EnvironmentSnapshot,
            project,
            input.now,
          ),
        ),
    })),
  };
}

const short = (digest: string | undefined) => (digest ? digest.slice(7, 19) : '');

export function renderStatusText(report: StatusReport): string {
  const lines: string[] = [];
  for (const p of report.projects) {
    lines.push(p.project);
    for (const env of report.environments) {
      const c = p.environments[env.name] ?? {};
      lines.push(
        `  ${env.name.padEnd(12)} ${c.reference ? `${c.version ?? '?'} ${c.tag ?? ''} ${short(c.digest)}` : '(not pinned)'}${c.since ? ` since ${c.since}` : ''}${c.lastSmoke ? `, smoke ${c.lastSmoke}` : ''}${c.hold ? `, HELD: ${c.hold.reason}` : ''}${c.running ? `, running ${c.running}` : ''}`,
      );
    }
    for (const pr of p.promotions) lines.push(`  ${pr.source} → ${pr.target}: ${pr.state} (${pr.detail})`);
  }
  return lines.join('\n');
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** A self-contained page (no script, no external asset): one row per project, one column per environment. */
export function renderStatusHtml(report: StatusReport): string {
  const e = escapeHtml;
  const head = report.environments
    .map((env) => `<th scope="col">${e(env.name)}<small>${e(env.mode)}</small></th>`)
    .join('');
  const promotionHeads = [
    ...new Set(report.projects.flatMap((p) => p.promotions.map((x) => `${x.source} → ${x.target}`))),
  ];
  const rows = report.projects
    .map((p) => {
      const cells = report.environments
        .map((env) => {
          const c = p.environments[env.name] ?? {};
          if (!c.reference) return `<td class="empty" data-env="${e(env.name)}">not pinned</td>`;
          return `<td data-env="${e(env.name)}" title="${e(c.reference)}"><span class="version">${e(c.version ?? 'unknown version')}</span>
<code>${e(c.tag ?? '')} ${e(short(c.digest))}</code>
${c.since ? `<span class="since">since ${e(c.since)}</span>` : ''}
<span class="smoke smoke-${e(c.lastSmoke ?? 'none')}">smoke ${e(c.lastSmoke ?? 'never')}</span>
${c.hold ? `<span class="hold">held: ${e(c.hold.reason)}</span>` : ''}${c.running ? `<span class="running">${e(c.running)}</span>` : ''}</td>`;
        })
        .join('');
      const promos = promotionHeads
        .map((head) => {
          const x = p.promotions.find((y) => `${y.source} → ${y.target}` === head);
          return x
            ? `<td class="promotion ${x.state}" data-promotion="${e(head)}"><strong>${e(x.state)}</strong><span>${e(x.detail)}</span></td>`
            : '<td></td>';
        })
        .join('');
      return `<tr data-project="${e(p.project)}"><th scope="row">${e(p.project)}</th>${cells}${promos}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Slipway deploy status</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#1b1f24;background:#fff}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #d0d7de;padding:.5rem;vertical-align:top;text-align:left}
thead th{background:#f6f8fa}th small{display:block;font-weight:normal;color:#57606a}
td span,td code{display:block}.version{font-weight:600;font-size:1.1em}code{color:#57606a}
.since{color:#57606a;font-size:.9em}.smoke-pass{color:#1a7f37}.smoke-fail,.smoke-inconclusive{color:#cf222e}.smoke-none,.smoke-not-run{color:#9a6700}
.hold{color:#cf222e;font-weight:600}.empty{color:#8c959f}
.promotion.ready{background:#dafbe1}.promotion.blocked{background:#fff8c5}.promotion.current{background:#f6f8fa}
</style></head>
<body><h1>Deploy status</h1><p>Generated ${e(report.generatedAt)}</p>
<table><thead><tr><th scope="col">project</th>${head}${promotionHeads.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
