import type { ProjectRecord, ReleaseRecord } from './history';
import { formatDuration } from './timings';

/**
 * The release summary in three shapes from one record: a console table, Markdown for
 * $GITHUB_STEP_SUMMARY, and a Slack-compatible webhook payload. Pure: no I/O, no secrets (records
 * hold none).
 */

/** `127.0.0.1:5000/slipway/catalog:h-0123456789ab@sha256:…` → `h-0123456789ab`; digest-only → `sha256:<12>`. */
export function shortReference(ref: string | undefined): string {
  if (!ref) return '-';
  const at = ref.indexOf('@');
  const name = at === -1 ? ref : ref.slice(0, at);
  const digest = at === -1 ? undefined : ref.slice(at + 1);
  const slash = name.lastIndexOf('/');
  const colon = name.indexOf(':', slash + 1);
  if (colon !== -1) return name.slice(colon + 1);
  return digest ? digest.slice(0, 'sha256:'.length + 12) : name;
}

const RESULT_TEXT: Record<ReleaseRecord['result'], string> = {
  succeeded: 'succeeded',
  'rolled-back': 'FAILED, rolled back',
  failed: 'FAILED',
};

function imageColumn(p: ProjectRecord): string {
  if (p.built === undefined) return '-';
  return p.built ? 'built' : 'reused';
}

/** `verified`: signature, SBOM and provenance accepted by the environment's trust policy before the apply. */
function signatureColumn(p: ProjectRecord): string {
  if (p.verified === undefined) return '-';
  return p.verified ? 'verified' : 'unverified';
}

const COLUMNS = ['project', 'from', 'to', 'image', 'signature', 'smoke', 'url'];

/** One project's cells, in COLUMNS order (the console table and the Markdown table share them). */
function cells(p: ProjectRecord): string[] {
  return [
    p.project,
    shortReference(p.from),
    shortReference(p.to),
    imageColumn(p),
    signatureColumn(p),
    p.smoke,
    p.url ?? '-',
  ];
}

function headline(record: ReleaseRecord): string {
  const what = record.kind === 'rollback' ? 'rollback' : 'release';
  return `${record.environment} ${what} ${record.id}: ${RESULT_TEXT[record.result]} in ${formatDuration(record.durationMs)}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function renderConsoleSummary(records: ReleaseRecord[]): string {
  const out: string[] = [];
  for (const record of records) {
    out.push('', headline(record));
    const rows = [COLUMNS, ...record.projects.map(cells)];
    out.push(table(rows));
    const stages = Object.entries(record.stages).map(([name, ms]) => `${name} ${formatDuration(ms)}`);
    if (stages.length > 0) out.push(`stages: ${stages.join(', ')}`);
    if (record.commit) out.push(`commit: ${record.commit}`);
    if (record.holds?.length) out.push(`hold written for: ${record.holds.join(', ')}`);
    for (const failure of record.failures ?? []) out.push(`problem: ${failure}`);
  }
  return out.join('\n').replace(/^\n/, '');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderMarkdownSummary(records: ReleaseRecord[]): string {
  const out: string[] = [];
  for (const record of records) {
    out.push(`### ${record.result === 'succeeded' ? '✅' : '❌'} ${escapeCell(headline(record))}`, '');
    out.push(`| ${COLUMNS.join(' | ')} |`, `| ${COLUMNS.map(() => '---').join(' | ')} |`);
    for (const p of record.projects) {
      out.push(
        `| ${cells(p)
          .map((c) => `\`${escapeCell(c)}\``)
          .join(' | ')} |`,
      );
    }
    out.push('');
    const stages = Object.entries(record.stages).map(([name, ms]) => `${name} ${formatDuration(ms)}`);
    if (stages.length > 0) out.push(`Stages: ${stages.join(', ')}.`, '');
    if (record.commit) out.push(`GitOps commit \`${record.commit}\`; actor ${escapeCell(record.actor)}.`, '');
    if (record.holds?.length) out.push(`Hold written for: ${record.holds.join(', ')}.`, '');
    for (const failure of record.failures ?? []) out.push(`- ${escapeCell(failure)}`);
    if (record.failures?.length) out.push('');
  }
  return `${out.join('\n')}\n`;
}

/** Slack incoming-webhook JSON (also accepted by Mattermost, Rocket.Chat and most chat bridges). */
export function webhookPayload(records: ReleaseRecord[]): {
  text: string;
  blocks: unknown[];
} {
  const text = records.map(headline).join('\n');
  const blocks: unknown[] = [];
  for (const record of records) {
    const lines = record.projects.map(
      (p) =>
        `• *${p.project}* ${shortReference(p.from)} → ${shortReference(p.to)} (${imageColumn(p)}, ${signatureColumn(p) === 'verified' ? 'signature verified, ' : ''}smoke ${p.smoke})`,
    );
    if (record.holds?.length) lines.push(`Hold: ${record.holds.join(', ')}`);
    for (const failure of record.failures ?? []) lines.push(`⚠ ${failure}`);
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${headline(record)}*\n${lines.join('\n')}`,
      },
    });
  }
  return { text, blocks };
}
