import { buildStatusReport, renderStatusHtml, renderStatusText } from './status-report';
import { D, fixtureSnapshots } from './status-report.fixture';

const report = () =>
  buildStatusReport({
    snapshots: fixtureSnapshots(),
    promotions: [{ source: 'staging', target: 'production', soakMs: 3_600_000 }],
    projects: ['catalog', 'orders', 'web'],
    now: new Date('2026-12-06T12:00:00.000Z'),
  });

describe('status report', () => {
  it('shows per project what each environment runs, its version, since when and its last smoke', () => {
    const { projects } = report();
    expect(projects[0]?.environments['staging']).toMatchObject({
      digest: D('b'),
      tag: 'h-bbbbbbbbbbbb',
      version: '1.4.2',
      since: '2026-12-06T08:00:00.000Z',
      lastSmoke: 'pass',
      record: 'staging-20261206T080000Z-aaaaaa',
    });
    // orders: the same digest, re-applied later with a failing smoke: since is still the first deploy.
    expect(projects[1]?.environments['staging']).toMatchObject({
      version: '0.3.0',
      since: '2026-12-06T08:00:00.000Z',
      lastSmoke: 'fail',
      record: 'staging-20261206T113000Z-bbbbbb',
    });
    expect(projects[0]?.environments['production']).toMatchObject({
      version: '1.4.1',
      hold: { reason: 'INC-9 pinned' },
    });
  });

  it('says what is ready to promote, and why the rest is not', () => {
    expect(report().projects.map((p) => [p.project, p.promotions[0]?.state, p.promotions[0]?.detail])).toEqual([
      ['catalog', 'blocked', expect.stringMatching(/^held in production since 2026-12-05T10:00:00.000Z: INC-9 pinned/)],
      [
        'orders',
        'blocked',
        expect.stringMatching(/^smoke-failed: its last staging release staging-20261206T113000Z-bbbbbb smoke fail/),
      ],
      ['web', 'current', 'production runs it'],
    ]);
    const ready = buildStatusReport({
      snapshots: fixtureSnapshots().map((s) => (s.environment === 'production' ? { ...s, holds: [] } : s)),
      promotions: [{ source: 'staging', target: 'production', soakMs: 0 }],
      projects: ['catalog'],
      now: new Date('2026-12-06T12:00:00.000Z'),
    });
    expect(ready.projects[0]?.promotions[0]).toEqual({
      source: 'staging',
      target: 'production',
      state: 'ready',
      detail: 'verified in staging by staging-20261206T080000Z-aaaaaa',
    });
  });

  it('renders text and a self-contained, escaped HTML page', () => {
    expect(renderStatusText(report())).toContain('staging → production: blocked (held in production');
    const snapshots = fixtureSnapshots();
    (snapshots[1]?.holds[0] as { reason: string }).reason = '<script>alert(1)</script>';
    const html = renderStatusHtml(
      buildStatusReport({ snapshots, promotions: [], projects: ['catalog'], now: new Date(0) }),
    );
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|src=|href=/);
  });
});
