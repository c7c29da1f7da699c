import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ExecutorContext } from '@nx/devkit';
import { runBumpExecutor } from './executor';
import type { BumpExecutorSchema, BumpTargetOption } from './schema';
import { loadCorpus, type CorpusCase } from '../../lib/manifests/corpus';
import { formatImageReference } from '../../lib/image/reference';
import { createGitOpsFixture, digestOf, git, snapshot, type GitOpsFixture } from '../../lib/gitops/testing/fixtures';

/**
 * The bump executor (what `nx run deploy:bump` runs) on the corpus of awkward files, against real
 * git: with --no-commit and with a commit pushed to a bare remote, the file in the working tree and
 * the blob on the remote must equal the expected bytes exactly; a refused file must leave every
 * byte, ref and the remote as they were. Then the path classes: options leading out of the
 * workspace, a symlinked kustomization.yaml, a folder where the file belongs.
 */
const corpus = loadCorpus();
const OVERLAY = 'deploy/k8s/overlays/staging/kustomization.yaml';
const REPO = '127.0.0.1:5000/slipway/catalog';
const SET = `catalog=${REPO}:h-0123456789ab@${digestOf('c')}`;

/** A blob's exact bytes (testing/fixtures' git() decodes output as UTF-8, which would hide the point). */
function blobBytes(repo: string, rev: string): Buffer {
  return execFileSync('git', ['cat-file', 'blob', rev], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Commit everything in `repo` and push it: the layout a case starts from, on the remote too. Returns HEAD. */
async function commitAll(repo: string, message: string): Promise<string> {
  await git(repo, ['add', '-A']);
  await git(repo, ['commit', '--quiet', '-m', message]);
  await git(repo, ['push', '--quiet', 'origin', 'main']);
  return git(repo, ['rev-parse', 'HEAD']);
}

async function runBump(
  root: string,
  options: Partial<BumpExecutorSchema>,
): Promise<{ success: boolean; errors: string }> {
  const errors: string[] = [];
  const result = await runBumpExecutor(
    { environment: 'staging', ...options } as BumpExecutorSchema,
    { root } as ExecutorContext,
    { env: process.env, log: () => undefined, error: (line) => void errors.push(line) },
  );
  return { success: result.success, errors: errors.join('\n') };
}

function optionsFor(c: CorpusCase, file: string): Partial<BumpExecutorSchema> {
  return {
    set: c.changes.map((ch) => `${ch.project}=${formatImageReference(ch.reference)}`),
    targets: [{ ...c.target, file } as BumpTargetOption],
  };
}

describe('bump executor on the corpus: exact bytes in the working tree and on the remote', () => {
  let fx: GitOpsFixture;
  let n = 0;
  beforeAll(async () => {
    fx = await createGitOpsFixture();
  });
  afterAll(async () => fx.cleanup());

  it.each(corpus.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const repo = await fx.clone(`corpus-${++n}`);
    const file = `deploy/corpus/${c.name}.yaml`;
    await fs.mkdir(path.join(repo, 'deploy/corpus'), { recursive: true });
    await fs.writeFile(path.join(repo, file), c.input);
    const head = await commitAll(repo, `test: corpus ${c.name}`);

    if (c.refused) {
      for (const commit of [false, true]) {
        const out = await runBump(repo, { ...optionsFor(c, file), commit });
        expect(out.success).toBe(false);
        expect(out.errors).toMatch(c.refused);
        expect(out.errors).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+: `));
        expect(out.errors).toMatch(/fix: \S/);
        expect((await fs.readFile(path.join(repo, file))).equals(c.input)).toBe(true);
        expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
        expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(head);
      }
      return;
    }
    const expected = c.expected as Buffer;

    // --no-commit: the working tree file only.
    const local = await runBump(repo, { ...optionsFor(c, file), commit: false });
    expect(local.errors).toBe('');
    expect(local.success).toBe(true);
    expect((await fs.readFile(path.join(repo, file))).equals(expected)).toBe(true);
    await git(repo, ['checkout', '--', file]);
    expect((await fs.readFile(path.join(repo, file))).equals(c.input)).toBe(true);

    // Commit and push to the bare remote.
    const pushed = await runBump(repo, optionsFor(c, file));
    expect(pushed.errors).toBe('');
    expect(pushed.success).toBe(true);
    const commit = await git(repo, ['rev-parse', 'HEAD']);
    expect(commit).not.toBe(head);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(commit);
    expect(blobBytes(fx.bare, `main:${file}`).equals(expected)).toBe(true);
    expect((await fs.readFile(path.join(repo, file))).equals(expected)).toBe(true);
    expect(await git(repo, ['diff', '--name-only', 'HEAD~1', 'HEAD'])).toBe(file);
    expect(await git(repo, ['status', '--porcelain'])).toBe('');
  });
});

describe('bump executor: paths', () => {
  let fx: GitOpsFixture;
  let outside: string;
  let n = 0;
  // A fresh remote per case: some cases push a changed layout first.
  beforeEach(async () => {
    fx = await createGitOpsFixture();
    outside = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-outside-'));
    await fs.cp(path.join(fx.seed, 'deploy'), path.join(outside, 'deploy'), { recursive: true });
  });
  afterEach(async () => {
    await fx.cleanup();
    await fs.rm(outside, { recursive: true, force: true });
  });

  const expectNothingChanged = async (repo: string, head: string, outsideBefore: Record<string, string>) => {
    expect(await git(repo, ['rev-parse', 'HEAD'])).toBe(head);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(head);
    expect(await snapshot(outside)).toEqual(outsideBefore);
  };

  it.each([
    [
      '--overlays-dir relative, out of the workspace',
      (repo: string) => ({ overlaysDir: path.relative(repo, path.join(outside, 'deploy/k8s/overlays')) }),
    ],
    [
      '--overlays-dir absolute, out of the workspace',
      () => ({ overlaysDir: path.join(outside, 'deploy/k8s/overlays') }),
    ],
    ['--holds-dir out of the workspace', () => ({ holdsDir: '../../../../etc' })],
    ['--records out of the workspace', () => ({ records: outside, set: undefined })],
    [
      'a target out of the workspace',
      () => ({ targets: [{ kind: 'kustomize' as const, file: `${outside}/${OVERLAY}` }] }),
    ],
  ] as [string, (repo: string) => Partial<BumpExecutorSchema>][])(
    '%s is refused in both modes, writing nothing',
    async (_name, options) => {
      const repo = await fx.clone(`out-${++n}`);
      const head = await git(repo, ['rev-parse', 'HEAD']);
      const outsideBefore = await snapshot(outside);
      const before = await snapshot(repo);
      for (const commit of [false, true]) {
        const opts = { set: [SET], ...options(repo), commit } as Partial<BumpExecutorSchema>;
        const out = await runBump(repo, opts);
        expect(out.success).toBe(false);
        expect(out.errors).toMatch(/leads outside the workspace/);
        expect(out.errors).toMatch(/fix: give a path inside the workspace root/);
        expect(await snapshot(repo)).toEqual(before);
        await expectNothingChanged(repo, head, outsideBefore);
      }
    },
  );

  it('a symlink leading out of the workspace is refused in both modes', async () => {
    const repo = await fx.clone(`out-link-${++n}`);
    const link = 'deploy/k8s/overlays/staging/kustomization.yaml';
    await fs.rm(path.join(repo, link));
    await fs.symlink(path.join(outside, OVERLAY), path.join(repo, link));
    const head = await commitAll(repo, 'test: overlay symlinked out of the repo');
    const outsideBefore = await snapshot(outside);
    for (const commit of [false, true]) {
      const out = await runBump(repo, { set: [SET], commit });
      expect(out.success).toBe(false);
      expect(out.errors).toMatch(
        new RegExp(`the staging overlay '${link}' leads outside the workspace \\(${link} is a symlink to ${outside}`),
      );
      expect((await fs.lstat(path.join(repo, link))).isSymbolicLink()).toBe(true);
      await expectNothingChanged(repo, head, outsideBefore);
    }
  });

  it('a symlinked kustomization.yaml inside the workspace is edited at its target, in both modes', async () => {
    const repo = await fx.clone(`link-${++n}`);
    const shared = 'deploy/k8s/shared/staging-kustomization.yaml';
    await fs.mkdir(path.join(repo, 'deploy/k8s/shared'), { recursive: true });
    await fs.rename(path.join(repo, OVERLAY), path.join(repo, shared));
    await fs.symlink('../../shared/staging-kustomization.yaml', path.join(repo, OVERLAY));
    const head = await commitAll(repo, 'test: overlay is a symlink');
    const original = await fs.readFile(path.join(repo, shared));
    const bumped = Buffer.from(
      original
        .toString('utf8')
        .replace('newTag: h-000000000000   # initial', 'newTag: h-0123456789ab   # initial')
        .replace(digestOf('0'), digestOf('c')),
    );

    const local = await runBump(repo, { set: [SET], commit: false });
    expect(local.errors).toBe('');
    expect((await fs.lstat(path.join(repo, OVERLAY))).isSymbolicLink()).toBe(true);
    expect(await fs.readlink(path.join(repo, OVERLAY))).toBe('../../shared/staging-kustomization.yaml');
    expect((await fs.readFile(path.join(repo, shared))).equals(bumped)).toBe(true);
    await git(repo, ['checkout', '--', shared]);

    const pushed = await runBump(repo, { set: [SET] });
    expect(pushed.errors).toBe('');
    expect(pushed.success).toBe(true);
    expect(await git(repo, ['diff', '--name-only', head, 'HEAD'])).toBe(shared);
    expect(await git(fx.bare, ['rev-parse', 'main'])).toBe(await git(repo, ['rev-parse', 'HEAD']));
    expect(blobBytes(fx.bare, `main:${shared}`).equals(bumped)).toBe(true);
    expect((await git(fx.bare, ['ls-tree', 'main', '--', OVERLAY])).split(/\s+/)[0]).toBe('120000');
    expect((await fs.lstat(path.join(repo, OVERLAY))).isSymbolicLink()).toBe(true);
    expect((await fs.readFile(path.join(repo, shared))).equals(bumped)).toBe(true);
    expect(await git(repo, ['status', '--porcelain'])).toBe('');

    // By URL (a private clone without a working tree): the symlink is followed in the commit's tree.
    const again = await runBump(repo, { set: [`catalog=${REPO}:h-bbbbbbbbbbbb@${digestOf('d')}`], remote: fx.bare });
    expect(again.errors).toBe('');
    expect(blobBytes(fx.bare, `main:${shared}`).toString('utf8')).toBe(
      bumped.toString('utf8').replace('h-0123456789ab', 'h-bbbbbbbbbbbb').replace(digestOf('c'), digestOf('d')),
    );
    expect((await git(fx.bare, ['ls-tree', 'main', '--', OVERLAY])).split(/\s+/)[0]).toBe('120000');
  });

  it('a folder where the kustomization.yaml belongs is named as a folder, in both modes', async () => {
    const repo = await fx.clone(`dir-${++n}`);
    await fs.rm(path.join(repo, OVERLAY));
    await fs.mkdir(path.join(repo, OVERLAY));
    await fs.writeFile(path.join(repo, OVERLAY, 'README.md'), 'a folder, by mistake\n');
    const head = await commitAll(repo, 'test: folder instead of the overlay file');
    const outsideBefore = await snapshot(outside);
    for (const commit of [false, true]) {
      const out = await runBump(repo, { set: [SET], commit });
      expect(out.success).toBe(false);
      expect(out.errors).toMatch(new RegExp(`the staging overlay ${OVERLAY} is a folder, not a file`));
      expect(out.errors).not.toMatch(/does not exist/);
      expect(out.errors).toMatch(/fix: point it at the file inside it/);
      await expectNothingChanged(repo, head, outsideBefore);
    }
  });
});
