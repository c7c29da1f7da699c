import {
  contextReferences,
  formatFinding,
  isTrustedReference,
  scanWorkflow,
  type WorkflowFinding,
} from './workflow-scan';

const SHA = 'a'.repeat(40);

/** A workflow that satisfies every rule; each bad case below changes one thing. */
const GOOD = `name: ok
on: [push]
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@${SHA} # v5.0.0
      - uses: ./.github/actions/local
      - name: Build
        env:
          TITLE: \${{ github.event.pull_request.title }}
        run: |
          echo "building \${{ github.sha }} in \${{ runner.temp }}"
          echo "$TITLE"
`;

function rules(findings: WorkflowFinding[]): string[] {
  return findings.map((f) => f.rule);
}

describe('scanWorkflow', () => {
  it('accepts a pinned, least-privilege workflow that passes untrusted text through env', () => {
    expect(scanWorkflow(GOOD, 'good.yml')).toEqual([]);
  });

  it.each([
    ['github.event.pull_request.title', '${{ github.event.pull_request.title }}'],
    ['github.head_ref', '${{ github.head_ref }}'],
    ['inputs.target', '${{ inputs.target }}'],
    ['github.event.inputs.reason', '${{ github.event.inputs.reason }}'],
    ['github.event.issue.body', "${{ format('{0}', github.event.issue.body) }}"],
    ['github.head_ref', "${{ github['head_ref'] }}"],
    ['env.TITLE', '${{env.TITLE}}'],
    ['steps.meta.outputs.tags', '${{ steps.meta.outputs.tags }}'],
  ])('flags %s interpolated into a run script', (reference, expression) => {
    const bad = GOOD.replace('echo "$TITLE"', `echo "${expression}"`);
    const findings = scanWorkflow(bad, 'bad.yml');
    expect(rules(findings)).toEqual(['untrusted-expression-in-script']);
    expect(findings[0].message).toContain(`"${reference}"`);
    expect(findings[0].message).toContain('Pass it through env:');
    // The line of the offending expression, not of the `run:` key.
    expect(findings[0].line).toBe(16);
  });

  it('flags expressions in a single-line run and in actions/github-script code', () => {
    const bad = `on: [pull_request]
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo \${{ github.event.pull_request.head.ref }}
      - uses: actions/github-script@${SHA} # v7.0.1
        with:
          script: console.log("\${{ github.event.comment.body }}")
`;
    const findings = scanWorkflow(bad, 'x.yml');
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['untrusted-expression-in-script', 7],
      ['untrusted-expression-in-script', 10],
    ]);
  });

  it('flags secrets interpolated into scripts', () => {
    const bad = GOOD.replace('echo "$TITLE"', 'curl -H "auth: ${{ secrets.NPM_TOKEN }}" https://x');
    expect(rules(scanWorkflow(bad, 'x.yml'))).toEqual(['secret-in-script']);
    const token = GOOD.replace('echo "$TITLE"', 'echo ${{ github.token }}');
    expect(rules(scanWorkflow(token, 'x.yml'))).toEqual(['secret-in-script']);
  });

  it.each([
    ['a tag', 'actions/checkout@v4'],
    ['a branch', 'actions/checkout@main'],
    ['a short SHA', 'actions/checkout@a81bbbf'],
    ['no ref at all', 'actions/checkout'],
    ['an uppercase SHA', `actions/checkout@${'A'.repeat(40)}`],
  ])('flags an action pinned to %s', (_label, uses) => {
    const bad = GOOD.replace(`actions/checkout@${SHA} # v5.0.0`, `${uses} # v5`);
    const findings = scanWorkflow(bad, 'x.yml');
    expect(rules(findings)).toEqual(['unpinned-action']);
    expect(findings[0].line).toBe(9);
    expect(findings[0].message).toContain('@<40-hex commit>');
  });

  it('requires a version comment after a pinned SHA', () => {
    const bad = GOOD.replace(' # v5.0.0', '');
    expect(rules(scanWorkflow(bad, 'x.yml'))).toEqual(['missing-version-comment']);
  });

  it('checks docker:// images and reusable workflows', () => {
    const bad = `on: [push]
permissions:
  contents: read
jobs:
  reuse:
    uses: octo/workflows/.github/workflows/build.yml@main
  local:
    uses: ./.github/workflows/local.yml
  img:
    runs-on: ubuntu-latest
    steps:
      - uses: docker://alpine:3.20
      - uses: docker://alpine@sha256:${'b'.repeat(64)}
`;
    const findings = scanWorkflow(bad, 'x.yml');
    expect(findings.map((f) => [f.rule, f.line])).toEqual([
      ['unpinned-action', 6],
      ['unpinned-action', 12],
    ]);
  });

  it('requires explicit permissions on every job when there are none at the top level', () => {
    const bad = `on: [push]
jobs:
  scoped:
    permissions:
      contents: read
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
  unscoped:
    runs-on: ubuntu-latest
    steps:
      - run: echo ok
`;
    const findings = scanWorkflow(bad, 'x.yml');
    expect(findings).toEqual([expect.objectContaining({ rule: 'missing-permissions', line: 9 })]);
    expect(findings[0].message).toContain('Job "unscoped"');
  });

  it('flags write-all at the top level and on a job', () => {
    const bad = GOOD.replace('permissions:\n  contents: read', 'permissions: write-all').replace(
      'runs-on: ubuntu-latest',
      'runs-on: ubuntu-latest\n    permissions: write-all',
    );
    expect(rules(scanWorkflow(bad, 'x.yml'))).toEqual(['write-all-permissions', 'write-all-permissions']);
  });

  it('scans the steps of a composite action', () => {
    const action = `name: setup
runs:
  using: composite
  steps:
    - uses: actions/setup-node@v4
    - shell: bash
      run: echo "\${{ inputs.version }}"
`;
    expect(rules(scanWorkflow(action, 'action.yml'))).toEqual(['unpinned-action', 'untrusted-expression-in-script']);
  });

  it('reports YAML syntax errors instead of throwing', () => {
    const findings = scanWorkflow('on: [push\njobs: {', 'broken.yml');
    expect(rules(findings)).toEqual(['yaml-syntax']);
    expect(formatFinding(findings[0])).toMatch(/^broken\.yml:\d+ \[yaml-syntax\] Not valid YAML/);
  });

  it('ignores documents without jobs', () => {
    expect(scanWorkflow('name: nothing\npermissions: {}\n', 'x.yml')).toEqual([]);
  });
});

describe('contextReferences', () => {
  it('normalises bracket access and ignores quoted text', () => {
    expect(contextReferences("github['event']['issue'].title")).toEqual(['github.event.issue.title']);
    expect(contextReferences("contains('github.event', matrix.os)")).toEqual(['matrix.os']);
    expect(contextReferences('toJSON(github.event.commits.*.message)')).toEqual(['github.event.commits.*.message']);
    expect(contextReferences('steps.x.outputs.y == needs.a.result')).toEqual(['steps.x.outputs.y', 'needs.a.result']);
  });
});

describe('isTrustedReference', () => {
  it.each([
    ['github.sha', true],
    ['github.workspace', true],
    ['runner.temp', true],
    ['matrix.node', true],
    ['github.shaX', false],
    ['github.event_name', true],
    ['github.event.after', false],
    ['github.ref_name', false],
    ['github.head_ref', false],
    ['inputs.x', false],
    ['env.X', false],
  ])('%s -> %s', (reference, trusted) => {
    expect(isTrustedReference(reference)).toBe(trusted);
  });
});
