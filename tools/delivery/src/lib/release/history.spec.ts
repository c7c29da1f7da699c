import { appendRecords, newRecordId, parseHistory, previousGoodReferences, type ReleaseRecord } from './history';
import { RECORD_ID_PATTERN } from './plan';

function record(id: string, result: ReleaseRecord['result'], projects: Record<string, string>): ReleaseRecord {
  return {
    schemaVersion: 1,
    id,
    kind: 'release',
    environment: 'production',
    mode: 'gitops',
    result,
    actor: 'a',
    trigger: 't',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    durationMs: 60_000,
    projects: Object.entries(projects).map(([project, to]) => ({
      project,
      from: '',
      to,
      smoke: 'pass',
    })),
    stages: {},
  };
}

describe('history records', () => {
  it('ids are sortable, unique and match the rollback --to pattern', () => {
    const id = newRecordId('production', new Date('2026-03-04T05:06:07.891Z'), () => 'a1b2c3');
    expect(id).toBe('production-20260304T050607Z-a1b2c3');
    expect(RECORD_ID_PATTERN.test(id)).toBe(true);
  });

  it('appends one JSON line per record and repairs a missing final newline', () => {
    const one = record('p-1', 'succeeded', { catalog: 'r1' });
    const text = appendRecords('{"x":1}', [one]);
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
    expect(
      parseHistory(appendRecords(undefined, [one, record('p-2', 'failed', {})]), 'h.jsonl').map((r) => r.id),
    ).toEqual(['p-1', 'p-2']);
  });

  it('names the file and line of a damaged record', () => {
    expect(() =>
      parseHistory(`${JSON.stringify(record('p-1', 'succeeded', {}))}\n{oops\n`, 'deploy/history/production.jsonl'),
    ).toThrow(/deploy\/history\/production\.jsonl:2 is not a JSON record/);
    expect(() => parseHistory('{"id":"x"}\n', 'h.jsonl')).toThrow(
      /h\.jsonl:1 is not a release record \(missing kind, environment, result, startedAt, projects\)/,
    );
  });

  it('previous = newest good state that differs from now; failed releases are never a target', () => {
    const records = [
      record('r1', 'succeeded', { catalog: 'c1', orders: 'o1' }),
      record('r2', 'succeeded', { catalog: 'c2' }),
      record('r3', 'rolled-back', { catalog: 'c3-broken' }),
      {
        ...record('r4', 'succeeded', { catalog: 'c2' }),
        kind: 'rollback' as const,
      },
    ];
    expect(previousGoodReferences(records, { catalog: 'c2', orders: 'o1' }, ['catalog', 'orders'])).toEqual({
      catalog: 'c1',
    });
    expect(previousGoodReferences(records, { catalog: 'c1', orders: 'o1' }, ['catalog'])).toEqual({ catalog: 'c2' });
    expect(previousGoodReferences(records, { catalog: 'c3-broken', orders: 'o1' }, ['catalog'])).toEqual({
      catalog: 'c2',
    });
  });
});
