import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileReleaseLock, LockHeldError, judgeHolder, newHolder, type LockHolder } from './lock';

const HOST = os.hostname();
const holder = (over: Partial<LockHolder> = {}): LockHolder => ({
  ...newHolder('local', 'alice', 'nx run deploy:local', new Date('2026-01-01T00:00:00Z')),
  ...over,
});

describe('judgeHolder', () => {
  const now = Date.parse('2026-01-01T02:00:00Z');
  const opts = (alive: boolean) => ({
    staleMs: 3_600_000,
    host: HOST,
    isAlive: () => alive,
  });
  it('same host: the pid decides, however old the lock is', () => {
    expect(judgeHolder(holder({ host: HOST }), now, opts(true))).toBe('held');
    expect(judgeHolder(holder({ host: HOST }), now, opts(false))).toBe('stale');
  });
  it('other host or unreadable holder: age decides', () => {
    expect(judgeHolder(holder({ host: 'ci-7' }), now, opts(true))).toBe('stale');
    expect(judgeHolder(holder({ host: 'ci-7', since: '2026-01-01T01:30:00Z' }), now, opts(true))).toBe('held');
    expect(judgeHolder(undefined, now, { ...opts(true), modifiedMs: now - 10_000 })).toBe('held');
    expect(
      judgeHolder(undefined, now, {
        ...opts(true),
        modifiedMs: now - 7_200_000,
      }),
    ).toBe('stale');
  });
});

describe('FileReleaseLock (real files, O_EXCL)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'slipway-lock-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a second release at once, naming the holder, and frees the lock on release', async () => {
    const file = path.join(dir, 'locks', 'local.lock');
    const first = new FileReleaseLock(file, holder(), {
      waitMs: 0,
      staleMs: 3_600_000,
    });
    await first.acquire();
    const second = new FileReleaseLock(file, holder({ actor: 'bob' }), {
      waitMs: 0,
      staleMs: 3_600_000,
    });
    const error = await second.acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `another release of local is running: alice \\(pid ${process.pid} on ${HOST}, since 2026-01-01T00:00:00.000Z, nx run deploy:local\\) holds ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`,
      ),
    );
    await first.release();
    await second.acquire();
    expect(JSON.parse(readFileSync(file, 'utf8')).actor).toBe('bob');
    await second.release();
  });

  it('takes over the lock of a dead process at once', async () => {
    const file = path.join(dir, 'local.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(file, JSON.stringify(holder({ pid: Number(dead), host: HOST })));
    const logs: string[] = [];
    const lock = new FileReleaseLock(file, holder({ actor: 'carol' }), {
      waitMs: 0,
      staleMs: 3_600_000,
      log: (l) => logs.push(l),
    });
    await lock.acquire();
    expect(logs[0]).toMatch(/taking over a stale release lock/);
    await lock.release();
  });

  it('waits (bounded) for a live holder and gets the lock when it is released', async () => {
    const file = path.join(dir, 'local.lock');
    const first = new FileReleaseLock(file, holder(), {
      waitMs: 0,
      staleMs: 3_600_000,
    });
    await first.acquire();
    setTimeout(() => void first.release(), 300);
    const second = new FileReleaseLock(file, holder({ actor: 'dan' }), {
      waitMs: 5000,
      staleMs: 3_600_000,
      pollMs: 50,
    });
    const started = Date.now();
    await second.acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await second.release();
  });

  it('does not delete a lock another run took over', async () => {
    const file = path.join(dir, 'local.lock');
    const mine = new FileReleaseLock(file, holder(), { waitMs: 0, staleMs: 1 });
    await mine.acquire();
    writeFileSync(file, JSON.stringify(holder({ actor: 'eve', token: 'other' })));
    await mine.release();
    expect(JSON.parse(readFileSync(file, 'utf8')).actor).toBe('eve');
  });
});
