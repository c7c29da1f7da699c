import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { applyBump } from './apply-bump';
import { GitCli, type GitAuth, type PushOutcome } from './git';
import { createGitOpsFixture, digestOf, git, startGitHttpServer, type GitOpsFixture } from './testing/fixtures';

const TOKEN = 'tok-3f9a1c77e2b5d0e4';
const change = (tag: string, c: string) => [
  { project: 'catalog', reference: { repository: '127.0.0.1:5000/slipway/catalog', tag, digest: digestOf(c) } },
];

describe('GitOps remote over smart HTTP with a token', () => {
  let fx: GitOpsFixture;
  let server: { url: string; close(): Promise<void> };
  beforeAll(async () => {
    fx = await createGitOpsFixture();
    await git(fx.bare, ['config', 'http.receivepack', 'true']);
    server = await startGitHttpServer(fx.dir, TOKEN);
  });
  afterAll(async () => {
    await server.close();
    await fx.cleanup();
  });

  it('pushes with the token from the environment and never prints it', async () => {
    const repo = await fx.clone('http-ok');
    await git(repo, ['remote', 'set-url', 'origin', `${server.url}/remote.git`]);
    const logs: string[] = [];
    const result = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: change('h-0123456789ab', 'a'),
      git: { token: TOKEN },
      log: (l) => logs.push(l),
    });
    expect(result.pushed).toBe(true);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(result.commit);
    expect(JSON.stringify(result) + logs.join('\n')).not.toContain(TOKEN);
  });

  it('a wrong token is an authentication error: no commit, no file change, token not echoed', async () => {
    const repo = await fx.clone('http-bad');
    await git(repo, ['remote', 'set-url', 'origin', `${server.url}/remote.git`]);
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const file = path.join(repo, 'deploy/k8s/overlays/staging/kustomization.yaml');
    const before = await fs.readFile(file, 'utf8');
    const error = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: change('h-bbbbbbbbbbbb', 'b'),
      git: { token: 'wrong-token-value' },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /push to origin \(main\) was refused for authentication[\s\S]*fix: set the token variable/,
    );
    expect(String(error)).not.toContain('wrong-token-value');
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });

  it('a URL with credentials in it is redacted from errors', async () => {
    const repo = await fx.clone('http-url');
    const error = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: change('h-cccccccccccc', 'c'),
      git: { remote: `${server.url.replace('http://', 'http://x-access-token:leaky-secret-123@')}/missing.git` },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(/can not fetch branch 'main' of/);
    expect(String(error)).not.toContain('leaky-secret-123');
  });
});

describe('git adapter', () => {
  let fx: GitOpsFixture;
  beforeAll(async () => {
    fx = await createGitOpsFixture();
  });
  afterAll(async () => fx.cleanup());

  it('builds a commit without touching the working tree or the index', async () => {
    const repo = await fx.clone('plumbing');
    await fs.writeFile(path.join(repo, 'README.md'), 'local edit, not staged\n');
    const g = new GitCli(repo);
    const head = (await g.revParse('HEAD')) as string;
    const { commit } = await g.createCommit({
      parent: head,
      files: [{ path: 'deploy/new.txt', content: 'x\n' }],
      message: 'chore: test\n',
    });
    expect(await g.readFile(commit, 'deploy/new.txt')).toBe('x\n');
    expect(await g.readFile(commit, 'README.md')).toBe('# gitops fixture\n');
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await git(repo, ['status', '--porcelain'])).toBe('M README.md');
  });

  it('classifies a push declined by a pre-receive hook without retrying', async () => {
    const hooks = path.join(fx.bare, 'hooks');
    await fs.writeFile(path.join(hooks, 'pre-receive'), '#!/bin/sh\necho "branch is protected" >&2\nexit 1\n', {
      mode: 0o755,
    });
    try {
      const repo = await fx.clone('declined');
      const result = await applyBump({
        workspaceRoot: repo,
        environment: 'staging',
        changes: change('h-dddddddddddd', 'd'),
      }).catch((e: Error) => e);
      expect(String(result)).toMatch(/was declined by the remote: .*pre-receive hook declined/);
    } finally {
      await fs.rm(path.join(hooks, 'pre-receive'));
    }
  });
});

describe('push retry with a swapped git adapter (real git, injected push outcomes)', () => {
  let fx: GitOpsFixture;
  beforeAll(async () => {
    fx = await createGitOpsFixture();
  });
  afterAll(async () => fx.cleanup());

  /** Real git, except that the first `failures` pushes answer `outcome` without reaching the remote. */
  const flaky = (failures: number, outcome: PushOutcome) => {
    const calls = { pushes: 0 };
    const factory = (dir: string, auth: GitAuth) =>
      new (class extends GitCli {
        override async push(remote: string, commit: string, branch: string): Promise<PushOutcome> {
          calls.pushes++;
          return calls.pushes <= failures ? outcome : super.push(remote, commit, branch);
        }
      })(dir, auth);
    return { calls, factory };
  };

  it('retries an unreachable remote with backoff and lands on the third attempt', async () => {
    const repo = await fx.clone('flaky-ok');
    const { calls, factory } = flaky(2, { kind: 'unreachable', detail: 'injected: Connection reset' });
    const logs: string[] = [];
    const result = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: change('h-eeeeeeeeeeee', 'e'),
      createGit: factory,
      git: { retryBaseMs: 5 },
      log: (l) => logs.push(l),
    });
    expect(calls.pushes).toBe(3);
    expect(result.pushAttempts).toBe(3);
    expect(logs.filter((l) => l.includes('rejected (unreachable)'))).toHaveLength(2);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(result.commit);
  });

  it('gives up after --max-push-attempts, leaving the working copy and the remote unchanged', async () => {
    const repo = await fx.clone('flaky-bad');
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const remoteHead = await git(fx.bare, ['rev-parse', 'main']);
    const file = path.join(repo, 'deploy/k8s/overlays/staging/kustomization.yaml');
    const before = await fs.readFile(file, 'utf8');
    const { calls, factory } = flaky(99, { kind: 'rejected', detail: '[rejected] (fetch first)' });
    const error = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: change('h-ffffffffffff', 'f'),
      createGit: factory,
      git: { retryBaseMs: 5, maxAttempts: 3 },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /push to origin \(main\) was still rejected after 3 attempts[\s\S]*fix: run the bump again, or raise --max-push-attempts/,
    );
    expect(calls.pushes).toBe(3);
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(remoteHead);
    expect(await fs.readFile(file, 'utf8')).toBe(before);
  });
});
