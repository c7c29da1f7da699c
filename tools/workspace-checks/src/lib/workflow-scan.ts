import { LineCounter, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node, YAMLMap } from 'yaml';

/**
 * A security scan of GitHub Actions workflow files (and composite actions), for the rules that
 * actionlint does not enforce:
 *  - `run:` scripts (and actions/github-script `script:`) must not interpolate `${{ }}` expressions
 *    that an outsider can influence: a PR title, a branch name or a dispatch input is pasted into the
 *    shell before it runs (script injection). Such values must reach the script through `env:` and be
 *    read as "$VAR". Only an allowlist of trusted contexts may be interpolated.
 *  - secrets must not be interpolated into scripts either (they end up in the script file on disk).
 *  - every `uses:` is pinned to a full 40-character commit SHA (tags move; SHAs do not), followed by a
 *    `# vX` comment so that humans and update bots know which release it is. Local `./` actions are
 *    exempt; `docker://` images must be pinned by digest.
 *  - `permissions:` is explicit, at the top level or on every job, and never `write-all`.
 */

export type WorkflowRule =
  | 'yaml-syntax'
  | 'untrusted-expression-in-script'
  | 'secret-in-script'
  | 'unpinned-action'
  | 'missing-version-comment'
  | 'missing-permissions'
  | 'write-all-permissions';

export interface WorkflowFinding {
  file: string;
  line: number;
  rule: WorkflowRule;
  message: string;
}

/** Contexts whose values come from the repository or the runner, never from an outsider. */
const TRUSTED_EXPRESSION_PREFIXES = [
  'github.sha',
  'github.workspace',
  'github.run_id',
  'github.run_number',
  'github.run_attempt',
  'github.repository',
  'github.repository_id',
  'github.repository_owner',
  'github.repository_owner_id',
  'github.server_url',
  'github.api_url',
  'github.graphql_url',
  'github.job',
  'github.action_path',
  'github.event_name',
  'github.workflow',
  'github.retention_days',
  'runner.',
  'strategy.',
  'matrix.',
  'job.',
  'vars.',
];

const CONTEXT_NAMES = [
  'github',
  'inputs',
  'env',
  'steps',
  'needs',
  'matrix',
  'secrets',
  'vars',
  'runner',
  'job',
  'jobs',
  'strategy',
];

const FULL_SHA = /^[0-9a-f]{40}$/;

/**
 * The context references inside one expression, normalised to dotted form:
 * `github['head_ref']` -> `github.head_ref`, `toJSON(github.event)` -> `github.event`.
 * String literals are removed first so that `'github.event'` in quotes is not a reference.
 */
export function contextReferences(expression: string): string[] {
  const withoutStrings = expression.replace(/'(?:[^']|'')*'/g, (literal) =>
    // Keep bracketed property names: github['head_ref'] is a real reference.
    /^'[A-Za-z0-9_-]+'$/.test(literal) ? literal : "''",
  );
  const normalised = withoutStrings.replace(/\[\s*'([A-Za-z0-9_-]+)'\s*\]/g, '.$1').replace(/\[\s*\*\s*\]/g, '.*');
  const references: string[] = [];
  const pattern = new RegExp(`(?<![\\w.])(${CONTEXT_NAMES.join('|')})((?:\\.[\\w*-]+)*)`, 'g');
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(normalised)) !== null) {
    references.push(`${match[1]}${match[2]}`);
  }
  return references;
}

export function isTrustedReference(reference: string): boolean {
  return TRUSTED_EXPRESSION_PREFIXES.some((prefix) =>
    prefix.endsWith('.') ? reference.startsWith(prefix) : reference === prefix || reference.startsWith(`${prefix}.`),
  );
}

interface ScanContext {
  file: string;
  source: string;
  lines: LineCounter;
  findings: WorkflowFinding[];
}

function lineOf(ctx: ScanContext, node: Node | null | undefined): number {
  const offset = node?.range?.[0] ?? 0;
  return ctx.lines.linePos(offset).line;
}

function report(ctx: ScanContext, node: Node | null | undefined, rule: WorkflowRule, message: string): void {
  ctx.findings.push({ file: ctx.file, line: lineOf(ctx, node), rule, message });
}

function mapGet(map: unknown, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  return (map as YAMLMap).get(key, true) as Node | undefined;
}

function scalarString(node: Node | undefined): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function checkScript(ctx: ScanContext, node: Node | undefined, where: string): void {
  const script = scalarString(node);
  if (script === undefined || !node?.range) return;
  // Walk the raw source of the scalar rather than its parsed value, so each finding carries the
  // line the expression is written on (block scalars keep their text verbatim apart from indentation).
  const [start, end] = node.range;
  const raw = ctx.source.slice(start, end);
  const pattern = /\$\{\{([\s\S]*?)\}\}/g;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(raw)) !== null) {
    const expression = match[1].trim();
    const line = ctx.lines.linePos(start + match.index).line;
    for (const reference of contextReferences(expression)) {
      if (reference.startsWith('secrets.') || reference === 'github.token') {
        ctx.findings.push({
          file: ctx.file,
          line,
          rule: 'secret-in-script',
          message:
            `${where} interpolates the secret "${reference}" into the script (\${{ ${expression} }}). ` +
            `Pass it through env: (e.g. env: { TOKEN: \${{ ${reference} }} }) and read "$TOKEN".`,
        });
      } else if (!isTrustedReference(reference)) {
        ctx.findings.push({
          file: ctx.file,
          line,
          rule: 'untrusted-expression-in-script',
          message:
            `${where} interpolates "${reference}" (\${{ ${expression} }}), which can carry attacker-controlled ` +
            `text into the shell. Pass it through env: and read it as "$VAR" in the script.`,
        });
      }
    }
  }
}

function checkUses(ctx: ScanContext, usesNode: Node | undefined): void {
  const uses = scalarString(usesNode);
  if (uses === undefined) return;
  if (uses.startsWith('./')) return;
  if (uses.startsWith('docker://')) {
    if (!/@sha256:[0-9a-f]{64}$/.test(uses)) {
      report(
        ctx,
        usesNode,
        'unpinned-action',
        `"${uses}" is not pinned by digest. Use docker://<image>@sha256:<64 hex>.`,
      );
    }
    return;
  }
  const at = uses.lastIndexOf('@');
  const ref = at === -1 ? '' : uses.slice(at + 1);
  if (!FULL_SHA.test(ref)) {
    report(
      ctx,
      usesNode,
      'unpinned-action',
      `"${uses}" is not pinned to a full commit SHA. Use ${at === -1 ? uses : uses.slice(0, at)}@<40-hex commit> # <version>.`,
    );
    return;
  }
  // The version comment lives after the scalar on the same source line.
  const end = usesNode?.range?.[1] ?? 0;
  const lineEnd = ctx.source.indexOf('\n', end);
  const rest = ctx.source.slice(end, lineEnd === -1 ? undefined : lineEnd);
  if (!/#\s*v?\d/.test(rest)) {
    report(
      ctx,
      usesNode,
      'missing-version-comment',
      `"${uses}" is pinned but has no version comment. Add the release it points to, e.g. "# v4.2.2".`,
    );
  }
}

function checkSteps(ctx: ScanContext, steps: Node | undefined, where: string): void {
  if (!isSeq(steps)) return;
  steps.items.forEach((step, index) => {
    const name = scalarString(mapGet(step, 'name')) ?? `step ${index + 1}`;
    const label = `${where}, ${name}:`;
    checkScript(ctx, mapGet(step, 'run'), `${label} run`);
    const usesNode = mapGet(step, 'uses');
    checkUses(ctx, usesNode);
    const uses = scalarString(usesNode) ?? '';
    if (uses.startsWith('actions/github-script@')) {
      checkScript(ctx, mapGet(mapGet(step, 'with'), 'script'), `${label} github-script`);
    }
  });
}

function checkPermissionsValue(ctx: ScanContext, node: Node | undefined, where: string): void {
  if (scalarString(node) === 'write-all') {
    report(ctx, node, 'write-all-permissions', `${where} grants "write-all". List only the scopes the job needs.`);
  }
}

/** Scans one workflow (or composite action) file. Pure: the caller reads the file. */
export function scanWorkflow(source: string, file: string): WorkflowFinding[] {
  const lines = new LineCounter();
  const ctx: ScanContext = { file, source, lines, findings: [] };
  const doc = parseDocument(source, {
    lineCounter: lines,
    prettyErrors: false,
  });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    ctx.findings.push({
      file,
      line: error.linePos?.[0]?.line ?? 1,
      rule: 'yaml-syntax',
      message: `Not valid YAML: ${error.message.split('\n')[0]}`,
    });
    return ctx.findings;
  }
  const root = doc.contents as Node | null;
  const runs = mapGet(root, 'runs');
  if (runs) {
    // Composite action: only steps, no jobs or permissions.
    checkSteps(ctx, mapGet(runs, 'steps'), 'action');
    return ctx.findings;
  }

  const topPermissions = mapGet(root, 'permissions');
  checkPermissionsValue(ctx, topPermissions, 'The workflow');
  const jobs = mapGet(root, 'jobs');
  if (!isMap(jobs)) return ctx.findings;
  for (const pair of jobs.items) {
    const jobId = String(isScalar(pair.key) ? pair.key.value : pair.key);
    const job = pair.value as Node | null;
    const jobPermissions = mapGet(job, 'permissions');
    checkPermissionsValue(ctx, jobPermissions, `Job "${jobId}"`);
    if (!topPermissions && !jobPermissions) {
      report(
        ctx,
        pair.key as Node,
        'missing-permissions',
        `Job "${jobId}" runs with the default token permissions. Declare permissions: at the top level ` +
          `or on the job (e.g. permissions: { contents: read }).`,
      );
    }
    // A job that calls a reusable workflow: `uses:` at job level.
    checkUses(ctx, mapGet(job, 'uses'));
    checkSteps(ctx, mapGet(job, 'steps'), `job "${jobId}"`);
  }
  return ctx.findings;
}

export function formatFinding(finding: WorkflowFinding): string {
  return `${finding.file}:${finding.line} [${finding.rule}] ${finding.message}`;
}
