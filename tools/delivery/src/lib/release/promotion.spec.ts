import type { ReleaseRecord } from './history';
import { describePromotion, planPromotion, promotionTrailers, refusalError, type PromotionInput } from './promotion';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const ref = (project: string, c: string) => `127.0.0.1:5000/slipway/${project}:h-${c.repeat(12)}@${D(c)}`;
const HOUR = 3_600_000;
const NOW = new Date('2026-12-06T12:00:00.000Z');

function record(
  id: string,
  finishedAt: string,
  projects: { project: string; to: string; smoke: 'pass' | 'fail' | 'not-run'; version?: string }[],
  result: ReleaseRecord['result'] = 'succeeded',
): ReleaseRecord {
  return {
    schemaVersion: 1,
    id,
    kind: 'release',
    environment: 'staging',
    mode: 'gitops',
    result,
    actor: 'ci',
    trigger: 'nx run deploy:staging',
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1,
    projects: projects.map((p) => ({ from: '', ...p })),
    stages: {},
  };
}

const base = (over: Partial<PromotionInput> = {}): PromotionInput => ({
  source: 'staging',
  target: 'production',
  projects: ['catalog', 'orders'],
  sourceReferences: { catalog: ref('catalog', 'a'), orders: ref('orders', 'b') },
  sourceHistory: [
    record('staging-20261206T080000Z-aaaaaa', '2026-12-06T08:00:00.000Z', [
      { project: 'catalog', to: ref('catalog', 'a'), smoke: 'pass', version: '1.4.2' },
      { project: 'orders', to: ref('orders', 'b'), smoke: 'pass' },
    ]),
  ],
  targetReferences: { catalog: ref('catalog', '1'), orders: ref('orders', '2') },
  soakMs: HOUR,
  now: NOW,
  ...over,
});

describe('promotion plan', () => {
  it('promotes exactly what staging runs and verified, naming the staging release', () => {
    const plan = planPromotion(base());
    expect(plan.refused).toEqual([]);
    expect(plan.promote).toEqual([
      {
        project: 'catalog',
        reference: ref('catalog', 'a'),
        digest: D('a'),
        sourceRecord: 'staging-20261206T080000Z-aaaaaa',
        verifiedAt: '2026-12-06T08:00:00.000Z',
        version: '1.4.2',
      },
      {
        project: 'orders',
        reference: ref('orders', 'b'),
        digest: D('b'),
        sourceRecord: 'staging-20261206T080000Z-aaaaaa',
        verifiedAt: '2026-12-06T08:00:00.000Z',
      },
    ]);
    expect(promotionTrailers(plan)).toEqual([
      `Slipway-Promoted-From: catalog staging staging-20261206T080000Z-aaaaaa ${D('a')}`,
      `Slipway-Promoted-From: orders staging staging-20261206T080000Z-aaaaaa ${D('b')}`,
    ]);
  });

  it('leaves alone what production already runs', () => {
    const plan = planPromotion(
      base({ targetReferences: { catalog: ref('catalog', 'a'), orders: ref('orders', '2') } }),
    );
    expect(plan.unchanged).toEqual(['catalog']);
    expect(plan.promote.map((p) => p.project)).toEqual(['orders']);
  });

  it('refuses a digest staging never verified (pinned by hand)', () => {
    const plan = planPromotion(
      base({ sourceReferences: { catalog: ref('catalog', 'c'), orders: ref('orders', 'b') } }),
    );
    expect(plan.refused).toEqual([
      expect.objectContaining({ project: 'catalog', digest: D('c'), reason: 'never-verified' }),
    ]);
    expect(refusalError(plan).message).toMatch(
      new RegExp(`catalog ${D('c')}: never-verified: no staging release record deployed it`),
    );
    expect(refusalError(plan).message).toContain('--force --reason=');
  });

  it('refuses a digest whose last staging smoke failed, or that was rolled back', () => {
    const history = [
      ...base().sourceHistory,
      record('staging-20261206T090000Z-bbbbbb', '2026-12-06T09:00:00.000Z', [
        { project: 'catalog', to: ref('catalog', 'a'), smoke: 'fail' },
      ]),
      record(
        'staging-20261206T091000Z-cccccc',
        '2026-12-06T09:10:00.000Z',
        [{ project: 'orders', to: ref('orders', 'b'), smoke: 'pass' }],
        'rolled-back',
      ),
    ];
    const plan = planPromotion(base({ sourceHistory: history }));
    expect(plan.refused.map((r) => [r.project, r.reason, r.detail])).toEqual([
      ['catalog', 'smoke-failed', 'its last staging release staging-20261206T090000Z-bbbbbb smoke fail'],
      ['orders', 'smoke-failed', 'its last staging release staging-20261206T091000Z-cccccc was rolled back'],
    ]);
  });

  it('refuses before the soak time and promotes after it', () => {
    const early = planPromotion(base({ soakMs: 6 * HOUR }));
    expect(early.refused.map((r) => r.detail)).toEqual([
      'verified in staging at 2026-12-06T08:00:00.000Z (release staging-20261206T080000Z-aaaaaa); soak time 6h ends in 2h',
      'verified in staging at 2026-12-06T08:00:00.000Z (release staging-20261206T080000Z-aaaaaa); soak time 6h ends in 2h',
    ]);
    const later = planPromotion(base({ soakMs: 6 * HOUR, now: new Date('2026-12-06T14:00:00.000Z') }));
    expect(later.refused).toEqual([]);
    expect(later.promote).toHaveLength(2);
  });

  it('refuses a digest staging no longer runs', () => {
    const plan = planPromotion(base({ projects: ['catalog'], digests: { catalog: D('9') } }));
    expect(plan.refused).toEqual([
      {
        project: 'catalog',
        reference: `127.0.0.1:5000/slipway/catalog@${D('9')}`,
        digest: D('9'),
        reason: 'not-running',
        detail: `staging no longer runs it; it runs ${ref('catalog', 'a')}`,
      },
    ]);
  });

  it('refuses a placeholder (never deployed to staging), even with --force', () => {
    const placeholder = `127.0.0.1:5000/slipway/catalog:h-000000000000@${D('0')}`;
    for (const force of [undefined, { reason: 'x' }]) {
      const plan = planPromotion(
        base({ sourceReferences: { catalog: placeholder, orders: ref('orders', 'b') }, force }),
      );
      expect(plan.refused).toEqual([
        expect.objectContaining({
          project: 'catalog',
          reason: 'never-verified',
          detail: expect.stringContaining('placeholder'),
        }),
      ]);
    }
  });

  it('--force with a reason promotes over refusals and says so in the trailers', () => {
    const force = { reason: 'hotfix  checked by hand\n(INC-42)' };
    const plan = planPromotion(base({ soakMs: 6 * HOUR, force }));
    expect(plan.refused).toEqual([]);
    expect(plan.promote.map((p) => p.forcedOver)).toEqual(['soaking', 'soaking']);
    expect(promotionTrailers(plan, force)).toContain(
      'Slipway-Promotion-Forced: catalog over soaking: hotfix checked by hand (INC-42)',
    );
    expect(describePromotion(plan)).toContain('[forced over: soaking]');
  });

  it.each([
    [{ target: 'staging' }, /cannot promote staging to itself/],
    [{ force: { reason: ' ' } }, /--force needs --reason/],
    [{ sourceReferences: { orders: ref('orders', 'b') } }, /staging has no image of 'catalog' to promote/],
  ])('bad input %j is a clear error', (over, message) => {
    expect(() => planPromotion(base(over as Partial<PromotionInput>))).toThrow(message);
  });
});
