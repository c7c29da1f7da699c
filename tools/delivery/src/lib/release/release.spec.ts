import { parseHoldFile } from '../gitops/holds';
import { DeliveryInputError } from '../shared/errors';
import { parseHistory } from './history';
import { LockHeldError } from './lock';
import { runRelease, runRollback } from './release';
import { ZERO, digest, harness, imageRecord, overlay } from './testing/fakes';

const OVERLAY = 'deploy/k8s/overlays/staging/kustomization.yaml';
const HOLDS = 'deploy/holds/staging.json';
const HISTORY = 'deploy/history/staging.jsonl';

const ref = (p: string, tag: string, d: string) => `127.0.0.1:5000/slipway/${p}:${tag}@${d}`;

function deployed(files: Record<string, string> = {}) {
  return {
    [OVERLAY]: overlay({
      catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
      orders: { tag: 'h-bbbbbbbbbbbb', digest: digest('b') },
    }),
    [HOLDS]: '{\n  "environment": "staging",\n  "holds": []\n}\n',
    ...files,
  };
}

function history(h: ReturnType<typeof harness>) {
  return parseHistory(h.repo.files.get(HISTORY) ?? '', HISTORY);
}

describe('runRelease', () => {
  it('says "nothing to deploy" and commits nothing when every image is reused and already pinned', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-aaaaaaaaaaaa', digest('a'), { reused: true }),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.message).toMatch(/^nothing to deploy: catalog h-aaaaaaaaaaaa, orders h-bbbbbbbbbbbb/);
    expect(h.repo.commits).toHaveLength(0);
    expect(h.cluster.applied).toHaveLength(0);
    expect(h.notified).toHaveLength(0);
    expect(h.lock.acquired).toBe(1);
    expect(h.lock.released).toBe(1);
  });

  it('bumps only the changed project in one commit, applies and smokes it, and records the release', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    expect(h.cluster.applied).toEqual([['catalog']]);
    expect(h.smoke.runs).toEqual([
      {
        project: 'catalog',
        expect: { version: '1.0.0', revision: 'rev-h-cccccccccccc' },
        ref: ref('catalog', 'h-cccccccccccc', digest('c')),
      },
    ]);
    // one bump commit + one record commit
    expect(h.repo.commits.map((c) => c.files)).toEqual([[OVERLAY], [HISTORY]]);
    const [record] = history(h);
    expect(record).toMatchObject({
      kind: 'release',
      environment: 'staging',
      result: 'succeeded',
      actor: 'tester',
      commit: h.repo.commits[0]?.sha,
      projects: [
        {
          project: 'catalog',
          from: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
          to: ref('catalog', 'h-cccccccccccc', digest('c')),
          built: true,
          smoke: 'pass',
        },
      ],
    });
    expect(Object.keys(record?.stages ?? {})).toEqual(
      expect.arrayContaining(['lock', 'prepare', 'images', 'bump', 'apply', 'smoke']),
    );
    expect(h.notified).toEqual([[record]]);
  });

  it('on a failed smoke reverts the bump in a new commit, re-applies, re-smokes, holds the failed project and exits 1', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-dddddddddddd', digest('d')),
      imageRecord('orders', 'h-eeeeeeeeeeee', digest('e')),
    ];
    h.smoke.broken.add(ref('catalog', 'h-dddddddddddd', digest('d')));
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toContain('failed (catalog)');
    expect(outcome.message).toContain(
      'restored catalog → 127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa, orders → 127.0.0.1:5000/slipway/orders:h-bbbbbbbbbbbb',
    );
    // bump, revert (+ hold), records
    expect(h.repo.commits).toHaveLength(3);
    expect(h.repo.commits[1]?.message).toMatch(
      /^revert\(deploy\): staging catalog, orders\n\nAutomatic rollback of release staging-/,
    );
    expect(h.repo.commits[1]?.files).toEqual([OVERLAY, HOLDS]);
    expect(h.cluster.running).toEqual({
      catalog: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
      orders: ref('orders', 'h-bbbbbbbbbbbb', digest('b')),
    });
    // re-smoke expects the restored images' own labels
    expect(h.smoke.runs.slice(2).map((r) => [r.project, r.expect?.revision])).toEqual([
      ['catalog', 'labels-of-h-aaaaaaaaaaaa'],
      ['orders', 'labels-of-h-bbbbbbbbbbbb'],
    ]);
    const holds = parseHoldFile(h.repo.files.get(HOLDS) as string, HOLDS, 'staging').holds;
    expect(holds).toEqual([
      {
        project: 'catalog',
        reference: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
        reason: expect.stringMatching(/^automatic rollback of staging-.*smoke fail/),
        since: expect.any(String),
      },
    ]);
    const [release, rollback] = history(h);
    expect(release).toMatchObject({
      kind: 'release',
      result: 'rolled-back',
      rolledBackBy: rollback?.id,
      holds: ['catalog'],
    });
    expect(release?.failures?.[0]).toMatch(/^catalog smoke fail: readiness: still 503/);
    expect(rollback).toMatchObject({
      kind: 'rollback',
      result: 'succeeded',
      rollbackOf: release?.id,
      commit: h.repo.commits[1]?.sha,
      holds: ['catalog'],
    });
    expect(rollback?.projects.map((p) => [p.project, p.smoke])).toEqual([
      ['catalog', 'pass'],
      ['orders', 'pass'],
    ]);
    expect(Object.keys(release?.stages ?? {})).toContain('rollback');
  });

  it('can not roll back a first deploy (placeholder references): exits 1 and says why', async () => {
    const h = harness({
      files: deployed({
        [OVERLAY]: overlay({
          catalog: { tag: 'h-000000000000', digest: ZERO },
          orders: { tag: 'h-000000000000', digest: ZERO },
        }),
      }),
    });
    h.images.next = [
      imageRecord('catalog', 'h-dddddddddddd', digest('d')),
      imageRecord('orders', 'h-eeeeeeeeeeee', digest('e')),
    ];
    h.smoke.broken.add(ref('catalog', 'h-dddddddddddd', digest('d')));
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(1);
    expect(outcome.message).toContain('no earlier deployed reference of catalog, orders to restore (first deploy)');
    expect(history(h)[0]).toMatchObject({ result: 'failed' });
    expect(h.repo.commits).toHaveLength(2);
  });

  it('leaves a held project where it is unless it is named or --release-hold is given', async () => {
    const held =
      '{"environment":"staging","holds":[{"project":"catalog","reference":"' +
      ref('catalog', 'h-aaaaaaaaaaaa', digest('a')) +
      '","reason":"rolled back","since":"2026-01-01T00:00:00Z"}]}\n';
    const h = harness({ files: deployed({ [HOLDS]: held }) });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-eeeeeeeeeeee', digest('e')),
    ];
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    expect(h.cluster.applied).toEqual([['orders']]);
    expect(h.logs.join('\n')).toContain('catalog is held at 127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa');

    const named = harness({
      files: deployed({ [HOLDS]: held }),
      options: { projects: 'catalog' },
    });
    named.images.next = [imageRecord('catalog', 'h-cccccccccccc', digest('c'))];
    expect((await runRelease(named.deps, { releaseHold: false })).exitCode).toBe(0);
    expect(named.cluster.applied).toEqual([['catalog']]);
    expect(parseHoldFile(named.repo.files.get(HOLDS) as string, HOLDS, 'staging').holds).toEqual([]);
  });

  it('re-applies a drifted project (not running what git says) without a bump', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-aaaaaaaaaaaa', digest('a'), { reused: true }),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    h.cluster.driftOf = ['orders'];
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(0);
    expect(h.cluster.applied).toEqual([['orders']]);
    expect(h.repo.commits.map((c) => c.files)).toEqual([[HISTORY]]);
    expect(h.smoke.runs[0]?.expect).toEqual({
      version: '1.0.0',
      revision: 'rev-h-bbbbbbbbbbbb',
    });
  });

  it('stops before anything moves when smoke configuration is broken', async () => {
    const h = harness({ files: deployed() });
    h.smoke.preflightError = new DeliveryInputError('smoke configuration of catalog for staging: bad');
    await expect(runRelease(h.deps, { releaseHold: false })).rejects.toThrow('smoke configuration of catalog');
    expect(h.repo.commits).toHaveLength(0);
    expect(h.lock.released).toBe(1);
  });

  it('records an apply failure as a failed release and rolls back', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    h.cluster.failApply = 'podman kube play of catalog failed';
    const outcome = await runRelease(h.deps, { releaseHold: false });
    expect(outcome.exitCode).toBe(1);
    const [release, rollback] = history(h);
    expect(release?.failures?.[0]).toBe('apply failed: podman kube play of catalog failed');
    // the cluster still refuses, so the rollback's apply fails too and says so
    expect(rollback?.result).toBe('failed');
    expect(release?.result).toBe('failed');
  });

  it('refuses cleanly when another release holds the lock', async () => {
    const h = harness({
      files: deployed(),
      lockError: new LockHeldError(
        {
          token: 't',
          environment: 'staging',
          pid: 42,
          host: 'ci',
          actor: 'alice',
          command: 'nx run deploy:staging',
          since: '2026-01-01T00:00:00Z',
        },
        'refs/slipway/locks/staging in origin',
        0,
      ),
    });
    await expect(runRelease(h.deps, { releaseHold: false })).rejects.toThrow(
      /another release of staging is running: alice \(pid 42 on ci, since 2026-01-01T00:00:00Z, nx run deploy:staging\)/,
    );
    expect(h.repo.commits).toHaveLength(0);
  });
});

describe('runRollback', () => {
  async function twoReleases() {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    await runRelease(h.deps, { releaseHold: false });
    return h;
  }

  it('--to=previous restores the last good reference that differs, in a revert commit with a hold', async () => {
    const h = harness({
      files: deployed({
        [HISTORY]:
          JSON.stringify({
            schemaVersion: 1,
            id: 'staging-20260101T000000Z-aaaa',
            kind: 'release',
            environment: 'staging',
            mode: 'gitops',
            result: 'succeeded',
            actor: 'a',
            trigger: 't',
            startedAt: 'x',
            finishedAt: 'x',
            durationMs: 1,
            projects: [
              {
                project: 'catalog',
                from: '',
                to: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
                smoke: 'pass',
              },
            ],
            stages: {},
          }) + '\n',
      }),
    });
    h.images.next = [
      imageRecord('catalog', 'h-cccccccccccc', digest('c')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    await runRelease(h.deps, { releaseHold: false });
    const outcome = await runRollback(h.deps, {
      to: 'previous',
      reason: 'bad numbers',
    });
    expect(outcome.exitCode).toBe(0);
    expect(h.cluster.running['catalog']).toBe(ref('catalog', 'h-aaaaaaaaaaaa', digest('a')));
    const revert = h.repo.commits[h.repo.commits.length - 2];
    expect(revert?.message).toMatch(
      /^revert\(deploy\): staging catalog\n\nRollback of staging to previous requested by tester: bad numbers/,
    );
    const holds = parseHoldFile(h.repo.files.get(HOLDS) as string, HOLDS, 'staging').holds;
    expect(holds).toEqual([
      {
        project: 'catalog',
        reference: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
        reason: 'bad numbers (by tester)',
        since: expect.any(String),
      },
    ]);
    const records = history(h);
    expect(records[records.length - 1]).toMatchObject({
      kind: 'rollback',
      result: 'succeeded',
      rollbackOf: 'previous',
      reason: 'bad numbers',
      holds: ['catalog'],
    });
  });

  it('verifies every target image in the registry first and changes nothing when one is gone', async () => {
    const h = await twoReleases();
    const commits = h.repo.commits.length;
    // commit 0 is the bump to h-ccc, which runs now: nothing to do
    expect((await runRollback(h.deps, { to: h.repo.commits[0]?.sha as string })).message).toContain(
      'already runs the rollback target',
    );
    h.registry.missing.add(ref('catalog', 'h-aaaaaaaaaaaa', digest('a')));
    await expect(runRollback(h.deps, { to: 'deadbee' })).rejects.toThrow(/commit deadbee is not in memory/);
    h.repo.files.set(
      HISTORY,
      (h.repo.files.get(HISTORY) as string) +
        JSON.stringify({
          schemaVersion: 1,
          id: 'staging-20250101T000000Z-beef',
          kind: 'release',
          environment: 'staging',
          mode: 'gitops',
          result: 'succeeded',
          actor: 'a',
          trigger: 't',
          startedAt: 'x',
          finishedAt: 'x',
          durationMs: 1,
          projects: [
            {
              project: 'catalog',
              from: '',
              to: ref('catalog', 'h-aaaaaaaaaaaa', digest('a')),
              smoke: 'pass',
            },
          ],
          stages: {},
        }) +
        '\n',
    );
    await expect(runRollback(h.deps, { to: 'staging-20250101T000000Z-beef' })).rejects.toThrow(
      /the registry no longer has 127\.0\.0\.1:5000\/slipway\/catalog:h-aaaaaaaaaaaa@sha256:a{64}/,
    );
    expect(h.repo.commits).toHaveLength(commits);
  });

  it('refuses a record that never passed smoke', async () => {
    const h = harness({ files: deployed() });
    h.images.next = [
      imageRecord('catalog', 'h-dddddddddddd', digest('d')),
      imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
    ];
    h.smoke.broken.add(ref('catalog', 'h-dddddddddddd', digest('d')));
    await runRelease(h.deps, { releaseHold: false });
    const failed = history(h)[0];
    await expect(runRollback(h.deps, { to: failed?.id as string })).rejects.toThrow(
      `record '${failed?.id}' ended 'rolled-back': its references never passed smoke`,
    );
  });
});
