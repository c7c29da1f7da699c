import type { ReleaseRecord } from './history';
import { renderConsoleSummary, renderMarkdownSummary, shortReference, webhookPayload } from './summary';

const record: ReleaseRecord = {
  schemaVersion: 1,
  id: 'local-20260101T000000Z-abcdef',
  kind: 'release',
  environment: 'local',
  mode: 'podman',
  result: 'rolled-back',
  actor: 'alice',
  trigger: 'nx run deploy:local',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:01:05.000Z',
  durationMs: 65_000,
  commit: 'c'.repeat(40),
  projects: [
    {
      project: 'catalog',
      from: '127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@sha256:' + 'a'.repeat(64),
      to: '127.0.0.1:5000/slipway/catalog:h-bbbbbbbbbbbb@sha256:' + 'b'.repeat(64),
      built: true,
      verified: true,
      smoke: 'fail',
      url: 'http://127.0.0.1:3101',
    },
  ],
  stages: { images: 30_000, smoke: 1500 },
  holds: ['catalog'],
  failures: ['catalog smoke fail: readiness | 503'],
};

describe('summary', () => {
  it('short references show the tag', () => {
    expect(shortReference(record.projects[0]?.to)).toBe('h-bbbbbbbbbbbb');
    expect(shortReference('x/y@sha256:' + 'f'.repeat(64))).toBe('sha256:ffffffffffff');
    expect(shortReference(undefined)).toBe('-');
  });

  it('console: headline, aligned table, stages, holds and problems', () => {
    const text = renderConsoleSummary([record]);
    expect(text.split('\n')).toEqual([
      'local release local-20260101T000000Z-abcdef: FAILED, rolled back in 1 min 5 s',
      'project  from            to              image  signature  smoke  url',
      'catalog  h-aaaaaaaaaaaa  h-bbbbbbbbbbbb  built  verified   fail   http://127.0.0.1:3101',
      'stages: images 30.0 s, smoke 1.5 s',
      `commit: ${'c'.repeat(40)}`,
      'hold written for: catalog',
      'problem: catalog smoke fail: readiness | 503',
    ]);
  });

  it('markdown escapes table cells', () => {
    const md = renderMarkdownSummary([record]);
    expect(md).toContain(
      '| `catalog` | `h-aaaaaaaaaaaa` | `h-bbbbbbbbbbbb` | `built` | `verified` | `fail` | `http://127.0.0.1:3101` |',
    );
    expect(md).toContain('- catalog smoke fail: readiness \\| 503');
  });

  it('webhook payload is Slack-compatible (text + mrkdwn section blocks)', () => {
    const payload = webhookPayload([record]);
    expect(payload.text).toBe('local release local-20260101T000000Z-abcdef: FAILED, rolled back in 1 min 5 s');
    expect(payload.blocks).toEqual([
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: expect.stringContaining(
            '• *catalog* h-aaaaaaaaaaaa → h-bbbbbbbbbbbb (built, signature verified, smoke fail)',
          ),
        },
      },
    ]);
  });
});
