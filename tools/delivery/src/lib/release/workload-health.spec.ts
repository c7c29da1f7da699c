import type { ClusterAdapter, WorkloadHealth } from '../cluster/types';
import { secretValues, toWorkloadFailure, workloadWatch } from './workload-health';

function adapter(answers: WorkloadHealth[][], health = true): ClusterAdapter & { asked: string[][] } {
  const asked: string[][] = [];
  return {
    name: 'fake',
    asked,
    apply: async () => ({ notes: [] }),
    drift: async () => [],
    status: async () => [],
    ...(health
      ? {
          health: async (_overlay: string | undefined, projects: string[]) => {
            asked.push(projects);
            return answers.shift() ?? [];
          },
        }
      : {}),
  };
}

describe('workloadWatch', () => {
  it('reports only a failing workload of its own project, redacted, with at most 30 log lines', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`);
    const cluster = adapter([
      [{ project: 'catalog', phase: 'starting' }],
      [
        { project: 'orders', phase: 'failing', reason: 'exited 2' },
        { project: 'catalog', phase: 'ready' },
      ],
      [
        {
          project: 'catalog',
          phase: 'failing',
          reason: 'exited 1 connecting to postgres://app:s3cr3t-pw@db:5432/catalog',
          restarts: 2,
          exitCode: 1,
          logTail: [...lines, 'token tok-123456789 rejected'],
        },
      ],
    ]);
    const watch = workloadWatch(cluster, () => '/overlay', 'catalog', { SLIPWAY_API_TOKEN: 'tok-123456789' }, 250);
    expect(watch?.intervalMs).toBe(250);
    expect(await watch?.failing()).toBeUndefined();
    expect(await watch?.failing()).toBeUndefined();
    const failure = await watch?.failing();
    expect(cluster.asked).toEqual([['catalog'], ['catalog'], ['catalog']]);
    expect(failure).toEqual({
      reason: 'exited 1 connecting to postgres://***@db:5432/catalog',
      restarts: 2,
      exitCode: 1,
      logTail: [...lines.slice(-29), 'token *** rejected'],
    });
  });

  it('is absent when the adapter cannot tell (no health())', () => {
    expect(workloadWatch(adapter([], false), () => undefined, 'catalog', {})).toBeUndefined();
  });
});

describe('secretValues', () => {
  it('takes secret-looking variables of six characters or more', () => {
    expect(
      secretValues({ GITHUB_TOKEN: 'ghp_abcdef', DB_PASSWORD: 'pw', API_KEY: 'key-123456', HOME: '/root/secretive' }),
    ).toEqual(['ghp_abcdef', 'key-123456']);
  });

  it('toWorkloadFailure gives a reason even when the adapter had none', () => {
    expect(toWorkloadFailure({ project: 'web', phase: 'failing' }, [])).toEqual({
      reason: 'failing (the runtime gave no reason)',
      logTail: [],
    });
  });
});
