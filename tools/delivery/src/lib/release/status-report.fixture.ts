import type { ReleaseRecord } from './history';
import type { EnvironmentSnapshot } from './status-report';

/** Two environments as a day of releases leaves them (test fixture shared by the unit and browser tests). */
export const D = (c: string) => `sha256:${c.repeat(64)}`;
export const REF = (project: string, c: string) => `ghcr.io/acme/${project}:h-${c.repeat(12)}@${D(c)}`;

function record(
  environment: string,
  id: string,
  finishedAt: string,
  projects: { project: string; from: string; to: string; smoke: 'pass' | 'fail'; version?: string }[],
  result: ReleaseRecord['result'] = 'succeeded',
): ReleaseRecord {
  return {
    schemaVersion: 1,
    id,
    kind: 'release',
    environment,
    mode: 'gitops',
    result,
    actor: 'ci',
    trigger: `nx run deploy:${environment}`,
    startedAt: finishedAt,
    finishedAt,
    durationMs: 1,
    projects,
    stages: {},
  };
}

export function fixtureSnapshots(): EnvironmentSnapshot[] {
  const staging: EnvironmentSnapshot = {
    environment: 'staging',
    mode: 'gitops',
    references: { catalog: REF('catalog', 'b'), orders: REF('orders', 'd'), web: REF('web', 'f') },
    holds: [],
    history: [
      record('staging', 'staging-20261206T080000Z-aaaaaa', '2026-12-06T08:00:00.000Z', [
        { project: 'catalog', from: REF('catalog', 'a'), to: REF('catalog', 'b'), smoke: 'pass', version: '1.4.2' },
        { project: 'orders', from: REF('orders', 'c'), to: REF('orders', 'd'), smoke: 'pass', version: '0.3.0' },
        { project: 'web', from: REF('web', 'e'), to: REF('web', 'f'), smoke: 'pass', version: '2.0.1' },
      ]),
      record('staging', 'staging-20261206T113000Z-bbbbbb', '2026-12-06T11:30:00.000Z', [
        { project: 'orders', from: REF('orders', 'd'), to: REF('orders', 'd'), smoke: 'fail' },
      ]),
    ],
  };
  const production: EnvironmentSnapshot = {
    environment: 'production',
    mode: 'gitops',
    references: { catalog: REF('catalog', 'a'), orders: REF('orders', 'c'), web: REF('web', 'f') },
    holds: [
      { project: 'catalog', reference: REF('catalog', 'a'), reason: 'INC-9 pinned', since: '2026-12-05T10:00:00.000Z' },
    ],
    history: [
      record('production', 'production-20261201T080000Z-cccccc', '2026-12-01T08:00:00.000Z', [
        { project: 'catalog', from: '', to: REF('catalog', 'a'), smoke: 'pass', version: '1.4.1' },
        { project: 'orders', from: '', to: REF('orders', 'c'), smoke: 'pass', version: '0.2.9' },
        { project: 'web', from: '', to: REF('web', 'f'), smoke: 'pass', version: '2.0.1' },
      ]),
    ],
  };
  return [staging, production];
}
