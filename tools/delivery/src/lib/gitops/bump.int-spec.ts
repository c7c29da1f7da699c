import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { applyBump } from './apply-bump';
import { parseBumpMessage } from './trailers';
import { createGitOpsFixture, digestOf, git, snapshot, type GitOpsFixture } from './testing/fixtures';

const ref = (s: string, tag: string, c: string) => ({
  repository: `127.0.0.1:5000/slipway/${s}`,
  tag,
  digest: digestOf(c),
});

describe('applyBump against a real bare remote', () => {
  let fx: GitOpsFixture;
  beforeEach(async () => {
    fx = await createGitOpsFixture();
  });
  afterEach(async () => fx.cleanup());

  it('makes one pushed commit that changes only the bumped scalars and names previous values in trailers', async () => {
    const repo = await fx.clone('a');
    const before = await fs.readFile(path.join(repo, 'deploy/k8s/overlays/staging/kustomization.yaml'), 'utf8');
    const result = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: [{ project: 'catalog', reference: ref('catalog', 'h-0123456789ab', 'c') }],
    });
    expect(result).toMatchObject({ changed: true, pushed: true, pushAttempts: 1, localUpdated: true });
    const after = await fs.readFile(path.join(repo, 'deploy/k8s/overlays/staging/kustomization.yaml'), 'utf8');
    expect(after).toBe(
      before
        .replace('newTag: h-000000000000   # initial', 'newTag: h-0123456789ab   # initial')
        .replace(digestOf('0'), digestOf('c')),
    );
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(result.commit);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(result.commit);
    expect(await git(repo, ['status', '--porcelain'])).toBe('');
    expect(await git(repo, ['diff', '--name-only', 'HEAD~1', 'HEAD'])).toBe(
      'deploy/k8s/overlays/staging/kustomization.yaml',
    );
    const message = await git(repo, ['log', '-1', '--format=%B']);
    expect(message.split('\n')[0]).toBe('chore(deploy): staging catalog h-0123456789ab');
    expect(parseBumpMessage(message)?.images[0]).toEqual({
      project: 'catalog',
      next: ref('catalog', 'h-0123456789ab', 'c'),
      previous: ref('catalog', 'h-000000000000', '0'),
    });
    expect(result.previous).toEqual({ catalog: `127.0.0.1:5000/slipway/catalog:h-000000000000@${digestOf('0')}` });
  });

  it('says up to date and commits nothing when the references are already there', async () => {
    const repo = await fx.clone('a');
    const head = await git(repo, ['rev-parse', 'HEAD']);
    const result = await applyBump({
      workspaceRoot: repo,
      environment: 'staging',
      changes: [{ project: 'orders', reference: ref('orders', 'h-000000000001', '1') }],
    });
    expect(result.changed).toBe(false);
    expect(result.commit).toBeUndefined();
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
  });

  it('--dry-run returns the unified diff and the message, and writes nothing', async () => {
    const repo = await fx.clone('a');
    const before = await snapshot(repo);
    const result = await applyBump({
      workspaceRoot: repo,
      environment: 'production',
      dryRun: true,
      changes: [{ project: 'web', reference: ref('web', 'h-0123456789ab', 'e') }],
    });
    expect(result.diff).toContain('--- a/deploy/k8s/overlays/production/kustomization.yaml');
    expect(result.diff).toContain('-    newTag: h-000000000002   # initial');
    expect(result.diff).toContain('+    newTag: h-0123456789ab   # initial');
    expect(result.message).toMatch(/^chore\(deploy\): production web h-0123456789ab\n/);
    expect(await snapshot(repo)).toEqual(before);
    expect(await git(fx.bare, ['rev-list', '--count', 'main'])).toBe('1');
  });

  it('re-applies on the new head after a rejected push, keeping the other commit', async () => {
    const a = await fx.clone('a');
    const b = await fx.clone('b');
    // Someone else lands a commit first (another file): a's push is rejected as non-fast-forward.
    await fs.writeFile(path.join(b, 'README.md'), '# changed by b\n');
    await git(b, ['commit', '--quiet', '-am', 'docs: b']);
    await git(b, ['push', '--quiet', 'origin', 'main']);
    const other = await git(b, ['rev-parse', 'HEAD']);
    const logs: string[] = [];
    const result = await applyBump({
      workspaceRoot: a,
      environment: 'staging',
      changes: [{ project: 'orders', reference: ref('orders', 'h-0123456789ab', 'd') }],
      git: { retryBaseMs: 10 },
      log: (l) => logs.push(l),
    });
    expect(result.pushAttempts).toBe(2);
    expect(logs.join('\n')).toMatch(/rejected \(rejected\); fetching and re-applying/);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(result.commit);
    expect(await git(fx.bare, ['rev-parse', 'main~1'])).toBe(other);
    // The local branch was fast-forwarded to the pushed commit: it has both changes.
    expect(await git(a, ['rev-parse', 'HEAD'])).toBe(result.commit);
    expect(await fs.readFile(path.join(a, 'README.md'), 'utf8')).toBe('# changed by b\n');
    expect(
      parse(await fs.readFile(path.join(a, 'deploy/k8s/overlays/staging/kustomization.yaml'), 'utf8')).images[1].newTag,
    ).toBe('h-0123456789ab');
  });

  it('a real conflict (someone moved the same image) fails naming both values, pushing nothing', async () => {
    const a = await fx.clone('a');
    const b = await fx.clone('b');
    await applyBump({
      workspaceRoot: b,
      environment: 'staging',
      changes: [{ project: 'catalog', reference: ref('catalog', 'h-bbbbbbbbbbbb', 'b') }],
    });
    const remoteHead = await git(fx.bare, ['rev-parse', 'main']);
    const before = await snapshot(a);
    const error = await applyBump({
      workspaceRoot: a,
      environment: 'staging',
      changes: [{ project: 'catalog', reference: ref('catalog', 'h-aaaaaaaaaaaa', 'a') }],
      git: { retryBaseMs: 10 },
    }).catch((e: Error) => e);
    expect(String(error)).toMatch(
      /conflict in staging: 'catalog' was changed on origin\/main \([0-9a-f]{12}\) to 127\.0\.0\.1:5000\/slipway\/catalog:h-bbbbbbbbbbbb@sha256:b{64} while this bump moves it from .*:h-000000000000@sha256:0{64} to .*:h-aaaaaaaaaaaa@sha256:a{64}/,
    );
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(remoteHead);
    expect(await snapshot(a)).toEqual(before);
  });

  it('bumps another repository given by path (URL mode) without touching any working tree', async () => {
    const a = await fx.clone('a');
    const before = await snapshot(a);
    const result = await applyBump({
      workspaceRoot: a,
      environment: 'staging',
      changes: [{ project: 'web', reference: ref('web', 'h-0123456789ab', 'f') }],
      git: { remote: fx.bare, branch: 'main' },
    });
    expect(result.pushed).toBe(true);
    expect(result.localUpdated).toBe(false);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(result.commit);
    const content = await git(fx.bare, ['show', 'main:deploy/k8s/overlays/staging/kustomization.yaml']);
    expect(parse(content).images[2]).toMatchObject({ newTag: 'h-0123456789ab', digest: digestOf('f') });
    expect(await snapshot(a)).toEqual(before);
  });

  it('respects holds and releases one only when asked, in the same commit', async () => {
    const a = await fx.clone('a');
    const hold = {
      environment: 'staging',
      holds: [{ project: 'catalog', reference: 'x', reason: 'smoke failed', since: '2026-01-01T00:00:00Z' }],
    };
    await fs.writeFile(path.join(a, 'deploy/holds/staging.json'), JSON.stringify(hold));
    await git(a, ['commit', '--quiet', '-am', 'chore(deploy): hold catalog']);
    const change = [{ project: 'catalog', reference: ref('catalog', 'h-0123456789ab', 'c') }];
    await expect(applyBump({ workspaceRoot: a, environment: 'staging', changes: change })).rejects.toThrow(
      /project 'catalog' is held in staging at x since 2026-01-01T00:00:00Z \(reason: smoke failed\); refusing to move it[\s\S]*--release-hold/,
    );
    const result = await applyBump({ workspaceRoot: a, environment: 'staging', changes: change, releaseHolds: true });
    expect(result.releasedHolds).toEqual(['catalog']);
    expect(JSON.parse(await fs.readFile(path.join(a, 'deploy/holds/staging.json'), 'utf8')).holds).toEqual([]);
    expect((await git(a, ['diff', '--name-only', 'HEAD~1', 'HEAD'])).split('\n').sort()).toEqual([
      'deploy/holds/staging.json',
      'deploy/k8s/overlays/staging/kustomization.yaml',
    ]);
    expect(await git(a, ['log', '-1', '--format=%B'])).toContain('Slipway-Hold-Released: catalog');
  });

  it('a fault on the second of three file writes (kustomize + helm + marker) changes no file and makes no commit', async () => {
    await fx.cleanup();
    fx = await createGitOpsFixture({
      extraFiles: {
        'deploy/helm/values-staging.yaml':
          '# values\norders:\n  image:\n    repository: r/orders  # helm\n    tag: h-1\n    digest: sha256:' +
          '0'.repeat(64) +
          '\n',
        'deploy/plain/web.yaml': 'kind: Pod\nspec:\n  containers:\n    - image: r/web:h-1 # slipway:image web\n',
      },
    });
    const a = await fx.clone('a');
    const targets = [
      { kind: 'kustomize' as const, file: 'deploy/k8s/overlays/staging/kustomization.yaml' },
      { kind: 'helm' as const, file: 'deploy/helm/values-staging.yaml', project: 'orders', path: 'orders.image' },
      { kind: 'marker' as const, file: 'deploy/plain/web.yaml' },
    ];
    const changes = [
      { project: 'catalog', reference: ref('catalog', 'h-0123456789ab', 'a') },
      { project: 'orders', reference: ref('orders', 'h-0123456789ab', 'b') },
      { project: 'web', reference: ref('web', 'h-0123456789ab', 'c') },
    ];
    const before = await snapshot(a);
    const head = await git(a, ['rev-parse', 'HEAD']);
    for (const hooks of [
      {
        beforeTempWrite: (i: number) => {
          if (i === 1) throw new Error('injected fault on write 2');
        },
      },
      {
        beforeRename: (i: number) => {
          if (i === 1) throw new Error('injected fault on write 2');
        },
      },
    ]) {
      await expect(
        applyBump({ workspaceRoot: a, environment: 'staging', targets, changes, git: { push: false }, hooks }),
      ).rejects.toThrow('injected fault on write 2');
      expect(await snapshot(a)).toEqual(before);
      expect(await git(a, ['rev-parse', 'HEAD'])).toBe(head);
      expect(await git(a, ['status', '--porcelain'])).toBe('');
    }
    // Without the fault the same bump writes all three in one commit.
    const ok = await applyBump({ workspaceRoot: a, environment: 'staging', targets, changes, git: { push: false } });
    expect(ok.files.map((f) => f.path).sort()).toEqual(targets.map((t) => t.file).sort());
    expect(await fs.readFile(path.join(a, 'deploy/plain/web.yaml'), 'utf8')).toBe(
      `kind: Pod\nspec:\n  containers:\n    - image: 127.0.0.1:5000/slipway/web:h-0123456789ab@${digestOf('c')} # slipway:image web\n`,
    );
    expect(await git(a, ['status', '--porcelain'])).toBe('');
  });
});
