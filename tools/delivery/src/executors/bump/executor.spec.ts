import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { formatSummary, resolveChanges, runBumpExecutor } from './executor';
import type { ApplyBumpResult } from '../../lib/gitops/apply-bump';

const digest = (c: string) => `sha256:${c.repeat(64)}`;

describe('bump executor: request resolution', () => {
  let root: string;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-bump-unit-'));
    await fs.mkdir(path.join(root, 'dist/images'), { recursive: true });
    for (const [project, c] of [
      ['catalog', 'a'],
      ['orders', 'b'],
    ]) {
      await fs.writeFile(
        path.join(root, 'dist/images', `${project}.json`),
        JSON.stringify({
          project,
          image: `127.0.0.1:5000/slipway/${project}`,
          tags: ['sha-1a2b3c4', 'main', 'h-0123456789ab'],
          digest: digest(c),
          contentTag: 'h-0123456789ab',
        }),
      );
    }
  });
  afterEach(async () => fs.rm(root, { recursive: true, force: true }));

  it('reads every image record, pinning the content tag with the digest', async () => {
    const changes = await resolveChanges({ environment: 'staging' }, root, false);
    expect(changes).toEqual([
      {
        project: 'catalog',
        reference: { repository: '127.0.0.1:5000/slipway/catalog', tag: 'h-0123456789ab', digest: digest('a') },
        source: 'dist/images/catalog.json',
      },
      {
        project: 'orders',
        reference: { repository: '127.0.0.1:5000/slipway/orders', tag: 'h-0123456789ab', digest: digest('b') },
        source: 'dist/images/orders.json',
      },
    ]);
  });

  it('filters records by --projects and can prefer the sha tag', async () => {
    const changes = await resolveChanges(
      { environment: 'staging', projects: ['orders'], tagPreference: 'sha' },
      root,
      false,
    );
    expect(changes.map((c) => [c.project, c.reference.tag])).toEqual([['orders', 'sha-1a2b3c4']]);
  });

  it('uses --set pairs (repeated or comma-separated) instead of records', async () => {
    const changes = await resolveChanges(
      {
        environment: 'staging',
        set: [`web=r/web:h-0123456789ab@${digest('c')},catalog=r/catalog:v1.2.3@${digest('d')}`],
      },
      root,
      false,
    );
    expect(changes.map((c) => c.project)).toEqual(['web', 'catalog']);
  });

  it('refuses a project named twice', async () => {
    await expect(
      resolveChanges({ environment: 'staging', set: ['catalog=r/c:h-0123456789ab@' + digest('a')] }, root, true),
    ).rejects.toThrow(/project 'catalog' is given twice \(dist\/images\/catalog\.json and --set catalog\)/);
  });

  it('fails without touching git when the environment name is invalid', async () => {
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    try {
      const result = await runBumpExecutor({ environment: 'Prod;rm -rf' }, { root } as ExecutorContext);
      expect(result.success).toBe(false);
    } finally {
      spy.mockRestore();
    }
    expect(errors.join('\n')).toMatch(/bump failed: environment 'Prod;rm -rf' is not a valid name/);
  });
});

describe('bump executor: summary', () => {
  const base: ApplyBumpResult = {
    environment: 'staging',
    changed: true,
    images: [
      { project: 'catalog', previous: 'r/catalog:h-1', next: 'r/catalog:h-2', changed: true, locations: [] },
      { project: 'orders', previous: 'r/orders:h-1', next: 'r/orders:h-1', changed: false, locations: [] },
    ],
    previous: {},
    files: [],
    diff: '--- a/x\n+++ b/x\n',
    releasedHolds: [],
    message: 'chore(deploy): staging catalog h-2\n',
    commit: '0123456789abcdef0123',
    pushed: true,
    pushAttempts: 2,
    remote: 'origin',
    branch: 'main',
    localUpdated: true,
    notes: [],
  };

  it('names each image with old and new references, the commit and the push', () => {
    const text = formatSummary(base, false);
    expect(text).toContain('staging bumped in 0123456789ab pushed to origin main (2 attempts)');
    expect(text).toContain('catalog: r/catalog:h-1\n    → r/catalog:h-2');
    expect(text).toContain('orders: up to date (r/orders:h-1)');
  });

  it('says up to date when nothing changed', () => {
    expect(formatSummary({ ...base, changed: false }, false)).toMatch(/^staging is up to date; nothing to commit/);
  });

  it('prints the diff and the message on a dry run', () => {
    const text = formatSummary(base, true);
    expect(text).toContain('dry run: staging would change');
    expect(text).toContain('--- a/x');
    expect(text).toContain('commit message:\nchore(deploy): staging catalog h-2');
  });
});
