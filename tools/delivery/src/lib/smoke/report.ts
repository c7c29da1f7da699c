import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describeAssertion } from './evaluate';
import { describeVersion } from './expect';
import { REDACTED } from '../shared/redact';
import { formatMs, joinUrl } from './format';
import type { ResolvedExpectation, ResolvedSmokeConfig, SmokeReport, StageReport } from './types';

const ICON: Record<StageReport['status'], string> = {
  pass: '✅',
  fail: '❌',
  inconclusive: '⚠️',
  skipped: '⏭️',
};
const WORD: Record<StageReport['status'], string> = {
  pass: 'PASS',
  fail: 'FAIL',
  inconclusive: 'INCONCLUSIVE',
  skipped: 'skipped',
};

/** <reportDir>/<environment>/<project>.json; reportDir relative to the workspace root, or absolute. */
export function reportPath(
  workspaceRoot: string,
  environment: string,
  project: string,
  reportDir = 'dist/smoke',
): string {
  return resolve(workspaceRoot, reportDir, environment, `${project}.json`);
}

/** Written to a temp file and renamed: a reader never sees half a report. */
export function writeReport(file: string, report: SmokeReport): void {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temp, file);
}

/** Appends the Markdown summary to $GITHUB_STEP_SUMMARY (or any file given). */
export function appendStepSummary(file: string, report: SmokeReport): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${renderMarkdown(report)}\n`);
}

export function renderMarkdown(report: SmokeReport): string {
  const lines = [
    `### ${ICON[report.outcome]} Smoke ${report.project} @ ${report.environment}: ${WORD[report.outcome]} (exit ${report.exitCode})`,
    '',
    `Base URL: \`${report.baseUrl}\` · expected: ${report.expected ? `\`${describeVersion(report.expected.fields)}\` (${report.expected.source})` : 'none'} · ${formatMs(report.durationMs)}`,
    '',
    '| Stage | Check | Result | Measurements | Latency min / median / max | Time | Details |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const stage of report.stages) {
    if (stage.checks?.length) {
      for (const check of stage.checks) {
        const counts = `${check.counts.success} ok / ${check.counts.failure} failed / ${check.counts.error} errors of ${check.limits.count}`;
        const latency = check.latency
          ? `${check.latency.minMs} / ${check.latency.medianMs} / ${check.latency.maxMs} ms`
          : '–';
        lines.push(
          row([
            stage.name,
            `${check.method} ${check.path} (${check.name})`,
            `${ICON[check.status]} ${WORD[check.status]}`,
            counts,
            latency,
            formatMs(check.durationMs),
            check.status === 'pass' ? '' : check.message,
          ]),
        );
      }
      continue;
    }
    const attempts = stage.attempts ? `${stage.attempts.length}` : '–';
    lines.push(
      row([
        stage.name,
        '',
        `${ICON[stage.status]} ${WORD[stage.status]}`,
        attempts,
        '–',
        formatMs(stage.durationMs),
        stage.message,
      ]),
    );
  }
  lines.push('', `**${WORD[report.outcome]}**: ${report.summary}`, '');
  for (const stage of report.stages) {
    if (!stage.workload) continue;
    // Four backticks: a log line may itself hold a three-backtick fence.
    lines.push(
      `Last ${stage.workload.logTail.length} log lines of the failing ${report.project} container:`,
      '',
      '````text',
      ...stage.workload.logTail,
      '````',
      '',
    );
  }
  return lines.join('\n');
}

function row(cells: string[]): string {
  // Pipes and newlines would break the table.
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
}

/** The console summary: one line per stage, one per check with its timings, then the verdict. */
export function renderConsoleSummary(report: SmokeReport, reportFile?: string): string {
  const lines = [`Smoke ${report.project}@${report.environment} (${report.baseUrl}) — ${formatMs(report.durationMs)}`];
  if (report.expected)
    lines.push(`  expected ${describeVersion(report.expected.fields)} from ${report.expected.source}`);
  for (const stage of report.stages) {
    lines.push(
      `  ${pad(WORD[stage.status], 12)} ${pad(stage.name, 10)} ${pad(formatMs(stage.durationMs), 8)} ${stage.message}`,
    );
    for (const check of stage.checks ?? []) {
      const latency = check.latency
        ? `min ${check.latency.minMs} / med ${check.latency.medianMs} / max ${check.latency.maxMs} ms`
        : 'no answers';
      lines.push(
        `      ${pad(WORD[check.status], 12)} ${check.method} ${check.path} "${check.name}": ${check.counts.success}/${check.measurements.length} ok, ${latency}, ${formatMs(check.durationMs)}${check.status === 'pass' ? '' : ` — ${check.message}`}`,
      );
    }
    if (stage.workload)
      lines.push(
        `      last ${stage.workload.logTail.length} log lines of the container:`,
        ...stage.workload.logTail.map((line) => `      | ${line}`),
      );
    if (stage.outputTail && stage.status !== 'pass')
      lines.push(
        ...stage.outputTail
          .split('\n')
          .slice(-10)
          .map((line) => `      | ${line}`),
      );
  }
  lines.push(`${WORD[report.outcome]} (exit ${report.exitCode}): ${report.summary}`);
  if (reportFile) lines.push(`Report: ${reportFile}`);
  return lines.join('\n');
}

/** What --dry-run prints: every stage and request, with the limits that will apply. Sends nothing. */
export function renderPlan(config: ResolvedSmokeConfig, expectation: ResolvedExpectation | null): string {
  const gate = config.versionGate;
  const lines = [
    `Smoke plan for ${config.project}@${config.environment} (dry run: nothing is requested)`,
    `  base URL     ${config.baseUrl}  (from ${config.baseUrlSource})`,
    `  1 readiness  GET ${joinUrl(config.baseUrl, config.readiness.path)} until 2xx, backoff ${config.readiness.initialDelayMs} ms ×${config.readiness.factor} (max ${config.readiness.maxDelayMs} ms), timeout ${formatMs(config.readiness.timeoutMs)}`,
    expectation
      ? `  2 version    GET ${joinUrl(config.baseUrl, gate.path)} must report ${describeVersion(expectation.fields)} (from ${expectation.source}; fields ${Object.entries(
          gate.fields,
        )
          .map(([k, p]) => `${k}=${p.source}`)
          .join(', ')}), ${gate.consecutiveMatches} time(s) in a row, timeout ${formatMs(gate.timeoutMs)}`
      : `  2 version    ${gate.required ? 'REQUIRED but no expected version given: the run would fail' : 'skipped: no expected version (--expect-version, image record or deploy)'}`,
    `  3 checks     ${config.checks.length ? `${config.checks.length}, in order:` : 'none'}`,
  ];
  for (const check of config.checks) {
    const headers = Object.keys(check.headers).map((h) =>
      check.secretHeaders.includes(h) ? `${h}: ${REDACTED}` : `${h}: ${check.headers[h]}`,
    );
    lines.push(
      `      ${check.method} ${check.path} "${check.name}" → ${check.expectStatus.join('|')}` +
        `${check.assertions.length ? `, ${check.assertions.map(describeAssertion).join(', ')}` : ''}${check.maxLatencyMs ? `, ≤ ${check.maxLatencyMs} ms` : ''}` +
        `; count ${check.count} every ${check.intervalMs} ms, failureLimit ${check.failureLimit}, consecutiveErrorLimit ${check.consecutiveErrorLimit}` +
        `${headers.length ? `; headers ${headers.join(', ')}` : ''}`,
    );
  }
  lines.push(
    config.k6
      ? `  4 k6         ${config.k6.binary} run ${config.k6.script} with BASE_URL=${config.baseUrl}`
      : '  4 k6         not configured',
  );
  lines.push(
    config.playwright
      ? `  5 playwright playwright test --grep ${config.playwright.grep} in ${config.playwright.dir} with BASE_URL=${config.baseUrl}`
      : '  5 playwright not configured',
  );
  return lines.join('\n');
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}
