import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { recoverInterruptedBump } from './apply-bump';
import { buildBumpDriver, createGitOpsFixture, digestOf, git, type GitOpsFixture } from './testing/fixtures';

/**
 * kill -9 a bump at random moments, 50 times. After every kill each target file must be exactly its
 * old or its new content (never torn or half-written); after recovery the three files must agree
 * (all old or all new) and match the branch's commit.
 */
const ITERATIONS = 50;
const TARGETS = [
  { kind: 'kustomize', file: 'deploy/k8s/overlays/staging/kustomization.yaml' },
  { kind: 'helm', file: 'deploy/helm/values-staging.yaml', project: 'orders', path: 'orders.image' },
  { kind: 'marker', file: 'deploy/plain/web.yaml' },
];
const setOf = (tag: string, c: string) =>
  ['catalog', 'orders', 'web'].map((project) => ({
    project,
    reference: { repository: `127.0.0.1:5000/slipway/${project}`, tag, digest: digestOf(c) },
  }));
const A = setOf('h-aaaaaaaaaaaa', 'a');
const B = setOf('h-bbbbbbbbbbbb', 'b');

describe('kill -9 stress', () => {
  let fx: GitOpsFixture;
  let driver: string;
  beforeAll(async () => {
    fx = await createGitOpsFixture({
      environments: ['staging'],
      extraFiles: {
        'deploy/helm/values-staging.yaml': `# helm values\norders:\n  image:\n    repository: 127.0.0.1:5000/slipway/orders\n    tag: h-000000000001\n    digest: ${digestOf('1')}\n`,
        'deploy/plain/web.yaml': `kind: Pod\nspec:\n  containers:\n    - name: web\n      image: 127.0.0.1:5000/slipway/web:h-000000000002@${digestOf('2')} # slipway:image web\n`,
      },
    });
    driver = await buildBumpDriver(fx.dir);
  });
  afterAll(async () => fx.cleanup());

  const readAll = (repo: string) => Promise.all(TARGETS.map((t) => fs.readFile(path.join(repo, t.file), 'utf8')));

  function bump(repo: string, changes: typeof A, criticalPauseMs?: number) {
    const options = {
      workspaceRoot: repo,
      environment: 'staging',
      targets: TARGETS,
      changes,
      git: { retryBaseMs: 20, maxAttempts: 6 },
      criticalPauseMs,
    };
    const child = spawn(process.execPath, [driver, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'ignore'] });
    const critical = new Promise<void>((resolve) =>
      child.stdout.on('data', (b: Buffer) => b.toString().includes('CRITICAL') && resolve()),
    );
    return {
      done: new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 137))),
      critical,
      kill: () => child.kill('SIGKILL'),
    };
  }

  it(`${ITERATIONS} random kills leave 0 torn files and a consistent state after recovery`, async () => {
    const repo = await fx.clone('victim');
    // Learn the exact contents of state A and state B, and how long one bump takes.
    const started = Date.now();
    expect(await bump(repo, A).done).toBe(0);
    const duration = Date.now() - started;
    const contentA = await readAll(repo);
    expect(await bump(repo, B).done).toBe(0);
    const contentB = await readAll(repo);
    expect(contentA).not.toEqual(contentB);

    let torn = 0;
    let killedMidway = 0;
    let killedInCriticalSection = 0;
    let rolledForward = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const current = await readAll(repo);
      const target = current.every((c, k) => c === contentA[k]) ? B : A;
      const expected = target === A ? contentA : contentB;
      // Even runs: killed at a random moment of a whole bump. Odd runs: killed at a random moment
      // inside the critical section (after the journal, during the ref/index update and renames).
      const inCritical = i % 2 === 1;
      const run = bump(repo, target, inCritical ? 60 : undefined);
      let timer: NodeJS.Timeout | undefined;
      if (inCritical) void run.critical.then(() => (timer = setTimeout(run.kill, Math.floor(Math.random() * 100))));
      else timer = setTimeout(run.kill, Math.floor(Math.random() * duration * 1.2));
      const code = await run.done;
      clearTimeout(timer);
      if (code !== 0) killedMidway++;
      if (code !== 0 && inCritical) killedInCriticalSection++;

      // Straight after the kill, before any recovery: every file is whole (old or new).
      const after = await readAll(repo);
      after.forEach((c, k) => {
        if (c !== contentA[k] && c !== contentB[k]) torn++;
      });

      rolledForward +=
        (await recoverInterruptedBump({ workspaceRoot: repo, environment: 'staging', targets: TARGETS as never }))
          .length > 0
          ? 1
          : 0;
      const recovered = await readAll(repo);
      const state = recovered.every((c, k) => c === contentA[k])
        ? 'A'
        : recovered.every((c, k) => c === contentB[k])
          ? 'B'
          : 'mixed';
      expect(state).not.toBe('mixed');
      // Past the commit point a killed bump is finished by recovery: the new contents win.
      if (inCritical) expect(recovered).toEqual(expected);
      // The branch's commit has exactly these contents: no half-applied commit either.
      for (const [k, t] of TARGETS.entries())
        expect(await git(repo, ['show', `HEAD:${t.file}`])).toBe(recovered[k].replace(/\n$/, ''));
      expect(await git(repo, ['status', '--porcelain', '--', 'deploy'])).toBe('');
      const leftovers = (await Promise.all(TARGETS.map((t) => fs.readdir(path.dirname(path.join(repo, t.file))))))
        .flat()
        .filter((n) => n.includes('.slipway-'));
      expect(leftovers).toEqual([]);
    }
    expect(torn).toBe(0);
    // The kills really landed inside bumps (not all after they had finished).
    expect(killedMidway).toBeGreaterThan(ITERATIONS / 4);
    expect(killedInCriticalSection).toBeGreaterThan(ITERATIONS / 4);
    expect(rolledForward).toBeGreaterThan(0);
    console.log(
      `kill -9 stress: ${ITERATIONS} runs, ${killedMidway} killed mid-bump (${killedInCriticalSection} inside the write's critical section), ${rolledForward} rolled forward by recovery, ${torn} torn files`,
    );
  });
});
