import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ReleaseRecord } from './history';
import { createNotifier } from './notify';

const record = {
  schemaVersion: 1,
  id: 'local-20260101T000000Z-abcdef',
  kind: 'release',
  environment: 'local',
  mode: 'podman',
  result: 'succeeded',
  actor: 'a',
  trigger: 't',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:01.000Z',
  durationMs: 1000,
  projects: [],
  stages: {},
} as ReleaseRecord;

describe('createNotifier', () => {
  let server: Server;
  let url: string;
  const bodies: unknown[] = [];
  let status = 200;
  let dir: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.statusCode = status;
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/SECRET-PART`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-notify-'));
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('posts the Slack payload, writes the step summary, and never prints the URL', async () => {
    const logs: string[] = [];
    const summary = path.join(dir, 'summary.md');
    await createNotifier({
      log: (l) => logs.push(l),
      env: { HOOK: url, GITHUB_STEP_SUMMARY: summary },
      webhookUrlEnv: 'HOOK',
    })([record]);
    expect(bodies[0]).toMatchObject({
      text: expect.stringContaining('local release local-20260101T000000Z-abcdef: succeeded'),
    });
    expect(readFileSync(summary, 'utf8')).toContain('### ✅ local release');
    expect(logs.join('\n')).toContain('webhook ($HOOK) notified');
    status = 500;
    await createNotifier({
      log: (l) => logs.push(l),
      env: { HOOK: url },
      webhookUrlEnv: 'HOOK',
    })([record]);
    expect(logs.join('\n')).toContain('warning: webhook ($HOOK) failed: HTTP 500');
    await createNotifier({
      log: (l) => logs.push(l),
      env: { HOOK: 'not a url SECRET-PART' },
      webhookUrlEnv: 'HOOK',
    })([record]);
    expect(logs.join('\n')).not.toContain('SECRET-PART');
    expect(logs.join('\n')).toContain('$HOOK is not an http(s) URL; webhook not called (value not shown)');
  });
});
