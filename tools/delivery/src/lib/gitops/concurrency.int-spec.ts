import { spawn } from 'node:child_process';
import { parse } from 'yaml';
import { parseBumpMessage } from './trailers';
import { buildBumpDriver, createGitOpsFixture, digestOf, git, type GitOpsFixture } from './testing/fixtures';

const SERVICES = ['catalog', 'orders', 'web', 'payments', 'search'];

function runDriver(driver: string, options: object): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [driver, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe('concurrent bumps against one bare remote', () => {
  let fx: GitOpsFixture;
  let driver: string;
  beforeAll(async () => {
    fx = await createGitOpsFixture({ services: SERVICES, environments: ['staging'] });
    driver = await buildBumpDriver(fx.dir);
  });
  afterAll(async () => fx.cleanup());

  it('5 bumps of different services racing from 5 clones all land, none lost', async () => {
    const clones = await Promise.all(SERVICES.map((s) => fx.clone(`racer-${s}`)));
    const results = await Promise.all(
      SERVICES.map((service, i) =>
        runDriver(driver, {
          workspaceRoot: clones[i],
          environment: 'staging',
          changes: [
            {
              project: service,
              reference: {
                repository: `127.0.0.1:5000/slipway/${service}`,
                tag: `h-${String(i).repeat(12)}`,
                digest: digestOf('abcde'[i]),
              },
            },
          ],
          git: { maxAttempts: 12, retryBaseMs: 50, retryMaxMs: 800 },
        }),
      ),
    );
    for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
    const attempts = results.map((r) => JSON.parse(r.stdout).attempts as number);
    // They really raced: at least one push was rejected and re-applied on a newer head.
    expect(Math.max(...attempts)).toBeGreaterThan(1);

    const overlay = parse(await git(fx.bare, ['show', 'main:deploy/k8s/overlays/staging/kustomization.yaml']));
    SERVICES.forEach((service, i) => {
      expect(overlay.images[i]).toMatchObject({
        name: `slipway/${service}`,
        newTag: `h-${String(i).repeat(12)}`,
        digest: digestOf('abcde'[i]),
      });
    });
    const messages = (await git(fx.bare, ['log', '--format=%B%x00', 'main']))
      .split('\0')
      .map((m) => m.trim())
      .filter(Boolean);
    const bumps = messages.map(parseBumpMessage).filter((m) => m !== null);
    expect(bumps.map((b) => b?.images[0].project).sort()).toEqual([...SERVICES].sort());
    // Linear history: every bump commit has exactly one parent.
    expect(await git(fx.bare, ['rev-list', '--merges', '--count', 'main'])).toBe('0');
  });
});
