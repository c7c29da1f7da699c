import { renderStatus, type EnvironmentStatus } from './status';

describe('release-status rendering', () => {
  it('shows pinned vs running, health, holds and history newest first', () => {
    const status: EnvironmentStatus = {
      environment: 'local',
      mode: 'podman',
      repository: '/repo/.local/deploy/local/repo (origin main)',
      head: 'f'.repeat(40),
      references: {
        catalog: `r/catalog:h-aaaaaaaaaaaa@sha256:${'a'.repeat(64)}`,
      },
      holds: [
        {
          project: 'catalog',
          reference: `r/catalog:h-aaaaaaaaaaaa@sha256:${'a'.repeat(64)}`,
          reason: 'rolled back',
          since: '2026-01-01T00:00:00Z',
        },
      ],
      records: [
        {
          schemaVersion: 1,
          id: 'local-2',
          kind: 'rollback',
          environment: 'local',
          mode: 'podman',
          result: 'succeeded',
          actor: 'bob',
          trigger: 't',
          startedAt: '',
          finishedAt: '',
          durationMs: 1,
          projects: [
            {
              project: 'catalog',
              from: 'r/catalog:h-bbbbbbbbbbbb',
              to: 'r/catalog:h-aaaaaaaaaaaa',
              smoke: 'pass',
            },
          ],
          stages: {},
        },
      ],
      workloads: [
        {
          project: 'catalog',
          state: 'running',
          current: true,
          health: { status: 'ok', version: '1.2.3', revision: 'abcdef0123' },
        },
        {
          project: 'orders',
          state: 'missing',
          current: false,
          health: 'ECONNREFUSED',
        },
      ],
    };
    expect(renderStatus(status).split('\n')).toEqual([
      `local (mode podman) — GitOps /repo/.local/deploy/local/repo (origin main) at ffffffffffff`,
      '',
      'project    pinned                 running',
      'catalog    h-aaaaaaaaaaaa         running, ok v1.2.3 abcdef0',
      'orders     -                      missing (outdated), ECONNREFUSED',
      '',
      'holds:',
      '  catalog at h-aaaaaaaaaaaa since 2026-01-01T00:00:00Z: rolled back',
      '',
      'history (newest first):',
      '  local-2  rollback succeeded  catalog h-bbbbbbbbbbbb→h-aaaaaaaaaaaa  by bob',
    ]);
  });
});
