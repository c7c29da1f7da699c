import { DeliveryInputError } from '../shared/errors';
import { parseHistory, serializeRecord, type ReleaseRecord } from './history';
import { createPromotion, promotionSettings } from './promotion-step';
import { runRelease } from './release';
import { digest, harness, overlay } from './testing/fakes';

const STAGING = 'deploy/k8s/overlays/staging/kustomization.yaml';
const PRODUCTION = 'deploy/k8s/overlays/production/kustomization.yaml';
const STAGING_HISTORY = 'deploy/history/staging.jsonl';
const PRODUCTION_HISTORY = 'deploy/history/production.jsonl';
const ref = (p: string, c: string) => `127.0.0.1:5000/slipway/${p}:h-${c.repeat(12)}@${digest(c)}`;

const verified: ReleaseRecord = {
  schemaVersion: 1,
  id: 'staging-20260101T100000Z-abcdef',
  kind: 'release',
  environment: 'staging',
  mode: 'gitops',
  result: 'succeeded',
  actor: 'ci',
  trigger: 'nx run deploy:staging',
  startedAt: '2026-01-01T09:59:00.000Z',
  finishedAt: '2026-01-01T10:00:00.000Z',
  durationMs: 60_000,
  projects: [
    {
      project: 'catalog',
      from: ref('catalog', 'a'),
      to: ref('catalog', 'c'),
      smoke: 'pass',
      version: '1.4.2',
      revision: 'r1',
    },
  ],
  stages: {},
};

function files(stagingCatalog = 'c') {
  return {
    [STAGING]: overlay({
      catalog: { tag: `h-${stagingCatalog.repeat(12)}`, digest: digest(stagingCatalog) },
      orders: { tag: 'h-bbbbbbbbbbbb', digest: digest('b') },
    }),
    [STAGING_HISTORY]: serializeRecord(verified),
    [PRODUCTION]: overlay({
      catalog: { tag: 'h-aaaaaaaaaaaa', digest: digest('a') },
      orders: { tag: 'h-bbbbbbbbbbbb', digest: digest('b') },
    }),
    'deploy/holds/production.json': '{\n  "environment": "production",\n  "holds": []\n}\n',
  };
}

function production(fileSet: Record<string, string>, options: Parameters<typeof promotionSettings>[0]) {
  const h = harness({ files: fileSet, options: { environment: 'production' } });
  const settings = promotionSettings(
    options,
    h.config,
    (l) => h.logs.push(l),
    () => new Date('2026-01-01T12:00:00.000Z'),
  );
  return { h, promotion: createPromotion(settings as NonNullable<typeof settings>) };
}

describe('promotion through runRelease', () => {
  it('pins exactly the verified staging reference in production, builds nothing, records where it came from', async () => {
    const { h, promotion } = production(files(), { promoteFrom: 'staging', soak: '1h' });
    const outcome = await runRelease(h.deps, { releaseHold: false, promotion });
    expect(outcome.exitCode).toBe(0);
    expect(h.repo.files.get(PRODUCTION)).toContain(`digest: ${digest('c')}`);
    expect(h.repo.commits[0]?.message).toContain('Promote 1 image verified in staging to production.');
    expect(h.smoke.runs).toEqual([
      { project: 'catalog', expect: { version: '1.4.2', revision: 'r1' }, ref: ref('catalog', 'c') },
    ]);
    const [record] = parseHistory(h.repo.files.get(PRODUCTION_HISTORY) as string, PRODUCTION_HISTORY);
    expect(record).toMatchObject({
      environment: 'production',
      result: 'succeeded',
      promotedFrom: { environment: 'staging', records: { catalog: 'staging-20260101T100000Z-abcdef' } },
      projects: [
        { project: 'catalog', from: ref('catalog', 'a'), to: ref('catalog', 'c'), built: false, smoke: 'pass' },
      ],
    });
  });

  it('refuses an unverified digest: nothing committed, lock released, error names project, digest, reason', async () => {
    const { h, promotion } = production(files('d'), { promoteFrom: 'staging' });
    await expect(runRelease(h.deps, { releaseHold: false, promotion })).rejects.toThrow(
      new RegExp(`catalog ${digest('d')}: never-verified`),
    );
    expect(h.repo.commits).toEqual([]);
    expect(h.lock.released).toBe(1);
  });

  it('refuses before the soak time; --force --reason promotes and records the reason', async () => {
    const early = production(files(), { promoteFrom: 'staging', soak: '3h' });
    await expect(runRelease(early.h.deps, { releaseHold: false, promotion: early.promotion })).rejects.toThrow(
      /catalog sha256:c{64}: soaking: .*soak time 3h ends in 1h/,
    );
    expect(early.h.repo.commits).toEqual([]);
    const forced = production(files(), { promoteFrom: 'staging', soak: '3h', force: true, reason: 'INC-42 fix' });
    expect((await runRelease(forced.h.deps, { releaseHold: false, promotion: forced.promotion })).exitCode).toBe(0);
    expect(forced.h.repo.commits[0]?.message).toContain('(forced: INC-42 fix)');
    const [record] = parseHistory(forced.h.repo.files.get(PRODUCTION_HISTORY) as string, PRODUCTION_HISTORY);
    expect(record).toMatchObject({ reason: 'INC-42 fix', forced: ['catalog: soaking'] });
  });

  it('an unknown source environment is a clear error and writes nothing', async () => {
    const { h, promotion } = production(files(), { promoteFrom: 'qa' });
    await expect(runRelease(h.deps, { releaseHold: false, promotion })).rejects.toThrow(
      /unknown environment 'qa': there is no deploy\/k8s\/overlays\/qa\/kustomization.yaml/,
    );
    expect(h.repo.commits).toEqual([]);
  });
});

describe('promotion options', () => {
  const target = { environment: 'production', projects: ['catalog', 'orders'], overlaysDir: 'o', historyDir: 'h' };
  it.each([
    [{ promoteFrom: 'production' }, /cannot promote production to itself/],
    [{ promoteFrom: 'staging', soak: '30 minutes' }, /--soak '30 minutes' is not a duration/],
    [{ promoteFrom: 'staging', force: true }, /--force needs --reason/],
    [{ promoteFrom: 'staging', digests: 'catalog=abc' }, /--digests: 'catalog=abc' is not <project>=sha256:<64 hex>/],
    [{ promoteFrom: 'staging', digests: `shop=${digest('a')}` }, /project 'shop' is not deployed to production/],
    [{ soak: '1h' }, /--soak only apply to a promotion/],
    [{ promoteFrom: 'Staging!' }, /is not an environment name/],
  ])('%j → clear error', (options, message) => {
    expect(() => promotionSettings(options, target, () => undefined)).toThrow(DeliveryInputError);
    expect(() => promotionSettings(options, target, () => undefined)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() =>
      promotionSettings({ promoteFrom: 'production', soak: 'x', force: true }, target, () => undefined),
    ).toThrow(/itself[\s\S]*--soak 'x'[\s\S]*--force needs --reason/);
  });
});
