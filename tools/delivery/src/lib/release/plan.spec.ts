import { parseImageReference } from '../image/reference';
import { isPlaceholder, parseRollbackTarget, planRelease, resolveRollbackReferences } from './plan';
import { ZERO, digest, imageRecord } from './testing/fakes';

const current = {
  catalog: parseImageReference(`127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@${digest('a')}`),
  orders: parseImageReference(`127.0.0.1:5000/slipway/orders:h-bbbbbbbbbbbb@${digest('b')}`),
};

describe('planRelease', () => {
  it('moves only changed references and tells built from reused', () => {
    const plan = planRelease({
      projects: ['catalog', 'orders'],
      projectsExplicit: false,
      releaseHold: false,
      records: [
        imageRecord('catalog', 'h-cccccccccccc', digest('c')),
        imageRecord('orders', 'h-bbbbbbbbbbbb', digest('b'), { reused: true }),
      ],
      current,
      holds: [],
    });
    expect(plan.moving).toEqual(['catalog']);
    expect(plan.built).toEqual({ catalog: true, orders: false });
    expect(plan.heldBack).toEqual([]);
  });

  it('holds back a held project unless named or released; a hold at the wanted reference is no obstacle', () => {
    const hold = {
      project: 'catalog',
      reference: `127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@${digest('a')}`,
      reason: 'r',
      since: 's',
    };
    const input = {
      projects: ['catalog'],
      releaseHold: false,
      records: [imageRecord('catalog', 'h-cccccccccccc', digest('c'))],
      current,
      holds: [hold],
    };
    expect(planRelease({ ...input, projectsExplicit: false }).heldBack.map((h) => h.project)).toEqual(['catalog']);
    expect(planRelease({ ...input, projectsExplicit: true }).releaseHolds).toEqual(['catalog']);
    expect(planRelease({ ...input, projectsExplicit: false, releaseHold: true }).moving).toEqual(['catalog']);
    const atWanted = {
      ...hold,
      reference: `127.0.0.1:5000/slipway/catalog:h-cccccccccccc@${digest('c')}`,
    };
    expect(planRelease({ ...input, projectsExplicit: false, holds: [atWanted] }).moving).toEqual(['catalog']);
  });

  it('fails naming the project when its image record is missing', () => {
    expect(() =>
      planRelease({
        projects: ['web'],
        projectsExplicit: false,
        releaseHold: false,
        records: [],
        current,
        holds: [],
      }),
    ).toThrow("no image record for 'web'");
  });
});

describe('rollback targets', () => {
  it('parses previous, record ids and commits; anything else is refused with the forms', () => {
    expect(parseRollbackTarget('previous')).toEqual({ kind: 'previous' });
    expect(parseRollbackTarget('production-20260101T120000Z-1a2b3c')).toEqual({
      kind: 'record',
      id: 'production-20260101T120000Z-1a2b3c',
    });
    expect(parseRollbackTarget('abc1234')).toEqual({
      kind: 'commit',
      commit: 'abc1234',
    });
    expect(() => parseRollbackTarget('yesterday; rm -rf /')).toThrow(
      /--to='yesterday; rm -rf \/' is not a rollback target\n {2}fix: pass --to=previous/,
    );
  });

  it('never targets a placeholder, and names projects a target lacks', () => {
    expect(isPlaceholder(`x/y:h-000000000000@${ZERO}`)).toBe(true);
    expect(isPlaceholder(`x/y:h-aaaaaaaaaaaa@${digest('a')}`)).toBe(false);
    const atCommit = {
      catalog: `x/catalog:h-000000000000@${ZERO}`,
      orders: `x/orders:h-bbbbbbbbbbbb@${digest('b')}`,
    };
    const base = {
      target: { kind: 'commit' as const, commit: 'abc1234' },
      records: [],
      current: {},
      atCommit,
      historyFile: 'h',
    };
    expect(
      resolveRollbackReferences({
        ...base,
        projects: ['catalog', 'orders'],
        projectsExplicit: false,
      }),
    ).toEqual({ orders: atCommit.orders });
    expect(() =>
      resolveRollbackReferences({
        ...base,
        projects: ['catalog'],
        projectsExplicit: true,
      }),
    ).toThrow('the rollback target has no deployed reference for catalog');
  });
});
