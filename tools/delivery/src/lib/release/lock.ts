import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GitCli } from '../gitops/git';
import { isAlive } from '../manifests/atomic-write';
import { DeliveryInputError } from '../shared/errors';
import { sleep } from '../shared/retry';

/**
 * One release per environment at a time. Two implementations of one idea — a lock that names its
 * holder, is waited for (bounded) or refused with that name, and is taken over only when provably
 * stale:
 *  - FileReleaseLock (local environments): a file created with O_EXCL; stale when its process is
 *    dead (same host) or when it is older than the stale timeout (another host).
 *  - GitRefReleaseLock (GitOps environments): a ref in the GitOps remote pointing at a parentless
 *    commit whose message is the holder. Creating a ref that exists is refused by the remote
 *    (non-fast-forward), so two runners can not both win; a stale holder is replaced with
 *    --force-with-lease on its exact commit, and release deletes the ref only if it is still ours.
 */
export interface LockHolder {
  /** Unique per acquisition. */
  token: string;
  environment: string;
  pid: number;
  host: string;
  actor: string;
  command: string;
  /** ISO time the lock was taken. */
  since: string;
}

export interface ReleaseLock {
  acquire(): Promise<void>;
  release(): Promise<void>;
  describe(): string;
}

export class LockHeldError extends DeliveryInputError {
  constructor(
    readonly holder: LockHolder | undefined,
    where: string,
    waitedSeconds: number,
  ) {
    super(
      `another release of ${holder?.environment ?? 'this environment'} is running: ${formatHolder(holder)} holds ${where}${waitedSeconds > 0 ? ` (waited ${waitedSeconds} s)` : ''}`,
      `wait for it to finish and run again${waitedSeconds === 0 ? ' (or pass --lockWaitSeconds=<n> to wait)' : ''}; if that run is gone, the lock is taken over automatically once it is stale (dead process, or older than --lockStaleSeconds)`,
    );
    this.name = 'LockHeldError';
  }
}

export function formatHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'an unknown holder';
  return `${holder.actor} (pid ${holder.pid} on ${holder.host}, since ${holder.since}, ${holder.command})`;
}

export function newHolder(environment: string, actor: string, command: string, now: Date): LockHolder {
  return {
    token: randomBytes(8).toString('hex'),
    environment,
    pid: process.pid,
    host: os.hostname(),
    actor,
    command,
    since: now.toISOString(),
  };
}

export function parseHolder(text: string | undefined): LockHolder | undefined {
  if (!text) return undefined;
  try {
    const data = JSON.parse(text) as Partial<LockHolder>;
    if (typeof data.token !== 'string' || typeof data.pid !== 'number' || typeof data.since !== 'string')
      return undefined;
    return data as LockHolder;
  } catch {
    return undefined;
  }
}

export type LockVerdict = 'held' | 'stale';

/**
 * Whether an existing lock may be taken over. Same host: the holder's process decides (a dead pid
 * is stale at once; a live one never is, however old: a long release is still a release). Other
 * host or unreadable holder: only age decides.
 */
export function judgeHolder(
  holder: LockHolder | undefined,
  now: number,
  opts: {
    staleMs: number;
    host: string;
    isAlive: (pid: number) => boolean;
    modifiedMs?: number;
  },
): LockVerdict {
  if (holder && holder.host === opts.host) return opts.isAlive(holder.pid) ? 'held' : 'stale';
  const since = holder ? Date.parse(holder.since) : (opts.modifiedMs ?? now);
  if (!Number.isFinite(since)) return 'stale';
  return now - since > opts.staleMs ? 'stale' : 'held';
}

export interface LockTiming {
  waitMs: number;
  staleMs: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

export class FileReleaseLock implements ReleaseLock {
  private held = false;

  constructor(
    readonly file: string,
    private readonly holder: LockHolder,
    private readonly timing: LockTiming,
  ) {}

  describe(): string {
    return this.file;
  }

  async acquire(): Promise<void> {
    const now = this.timing.now ?? Date.now;
    const pause = this.timing.sleep ?? sleep;
    const started = now();
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    let announced = false;
    for (;;) {
      try {
        const handle = await fs.open(this.file, 'wx', 0o644);
        try {
          await handle.writeFile(JSON.stringify(this.holder));
        } finally {
          await handle.close();
        }
        this.held = true;
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = await fs.readFile(this.file, 'utf8').catch(() => undefined);
      const stat = await fs.stat(this.file).catch(() => undefined);
      const current = parseHolder(text);
      const verdict = judgeHolder(current, now(), {
        staleMs: this.timing.staleMs,
        host: os.hostname(),
        isAlive,
        modifiedMs: stat?.mtimeMs,
      });
      if (verdict === 'stale') {
        // Remove it only if it is still the file we judged (another waiter may have replaced it).
        const again = await fs.readFile(this.file, 'utf8').catch(() => undefined);
        if (again === text) {
          this.timing.log?.(`taking over a stale release lock ${this.file} from ${formatHolder(current)}`);
          await fs.rm(this.file, { force: true });
        }
        continue;
      }
      const waited = now() - started;
      if (waited >= this.timing.waitMs) throw new LockHeldError(current, this.file, Math.round(waited / 1000));
      if (!announced) {
        this.timing.log?.(
          `waiting up to ${Math.round(this.timing.waitMs / 1000)} s for ${formatHolder(current)} to release ${this.file}`,
        );
        announced = true;
      }
      await pause(Math.min(this.timing.pollMs ?? 1000, Math.max(1, this.timing.waitMs - waited)));
    }
  }

  async release(): Promise<void> {
    if (!this.held) return;
    const current = parseHolder(await fs.readFile(this.file, 'utf8').catch(() => undefined));
    if (current?.token === this.holder.token) await fs.rm(this.file, { force: true });
    this.held = false;
  }
}

export class GitRefReleaseLock implements ReleaseLock {
  private ourCommit: string | undefined;
  private readonly git: GitCli;

  /**
   * @param scratchDir a git repository used to create the lock commit and read the remote (the
   *   GitOps working copy, or any repository: only objects are written, never refs or files)
   */
  constructor(
    scratchDir: string,
    private readonly remote: string,
    readonly ref: string,
    private readonly holder: LockHolder,
    private readonly timing: LockTiming,
    auth: { token?: string; username?: string } = {},
  ) {
    this.git = new GitCli(scratchDir, auth);
  }

  describe(): string {
    return `${this.ref} in ${this.remote}`;
  }

  private async lockCommit(): Promise<string> {
    const emptyTree = (
      await this.git.runOk(['hash-object', '-t', 'tree', '-w', '--stdin'], {
        input: '',
      })
    ).trim();
    const message = `slipway release lock ${this.holder.environment}\n\n${JSON.stringify(this.holder)}\n`;
    const env = {
      GIT_AUTHOR_NAME: 'Slipway Lock',
      GIT_AUTHOR_EMAIL: 'slipway-lock@users.noreply.localhost',
      GIT_COMMITTER_NAME: 'Slipway Lock',
      GIT_COMMITTER_EMAIL: 'slipway-lock@users.noreply.localhost',
    };
    return (
      await this.git.runOk(['commit-tree', emptyTree, '-F', '-'], {
        input: message,
        env,
      })
    ).trim();
  }

  /** The remote's lock commit and its holder, or undefined when the ref does not exist. */
  private async readRemote(): Promise<{ commit: string; holder?: LockHolder } | undefined> {
    const listed = await this.git.run(['ls-remote', this.remote, this.ref], {
      network: true,
    });
    if (listed.code !== 0)
      throw new DeliveryInputError(
        `can not read ${this.ref} from ${this.remote}: ${listed.stderr.trim()}`,
        'check the remote and its credentials',
      );
    const commit = listed.stdout.trim().split(/\s+/)[0];
    if (!commit) return undefined;
    const fetched = await this.git.run(
      ['fetch', '--no-tags', '--quiet', this.remote, `+${this.ref}:refs/slipway-lock-probe/${process.pid}`],
      { network: true },
    );
    let holder: LockHolder | undefined;
    if (fetched.code === 0) {
      const body = await this.git.run(['log', '-1', '--format=%b', commit]);
      holder = parseHolder(body.stdout.trim());
      await this.git.run(['update-ref', '-d', `refs/slipway-lock-probe/${process.pid}`]);
    }
    return { commit, holder };
  }

  async acquire(): Promise<void> {
    const now = this.timing.now ?? Date.now;
    const pause = this.timing.sleep ?? sleep;
    const started = now();
    const commit = await this.lockCommit();
    let announced = false;
    let refusedWithoutLock = 0;
    for (;;) {
      // No force: the remote refuses to replace an existing lock (unrelated history).
      const pushed = await this.git.run(['push', '--porcelain', this.remote, `${commit}:${this.ref}`], {
        network: true,
      });
      if (pushed.code === 0) {
        this.ourCommit = commit;
        return;
      }
      const existing = await this.readRemote();
      if (!existing) {
        // Released meanwhile (try again), unless the push itself is failing (auth, protection).
        if (++refusedWithoutLock >= 3) {
          throw new DeliveryInputError(
            `can not create the release lock ${this.describe()}: ${pushed.stderr.trim() || pushed.stdout.trim()}`,
            'the GitOps token must be allowed to push this ref (or set lockRef to a ref it may push)',
          );
        }
        continue;
      }
      const verdict = judgeHolder(existing.holder, now(), {
        staleMs: this.timing.staleMs,
        host: os.hostname(),
        isAlive,
      });
      if (verdict === 'stale') {
        this.timing.log?.(`taking over a stale release lock ${this.ref} from ${formatHolder(existing.holder)}`);
        const taken = await this.git.run(
          [
            'push',
            '--porcelain',
            `--force-with-lease=${this.ref}:${existing.commit}`,
            this.remote,
            `${commit}:${this.ref}`,
          ],
          { network: true },
        );
        if (taken.code === 0) {
          this.ourCommit = commit;
          return;
        }
        continue;
      }
      const waited = now() - started;
      if (waited >= this.timing.waitMs)
        throw new LockHeldError(existing.holder, this.describe(), Math.round(waited / 1000));
      if (!announced) {
        this.timing.log?.(
          `waiting up to ${Math.round(this.timing.waitMs / 1000)} s for ${formatHolder(existing.holder)} to release ${this.describe()}`,
        );
        announced = true;
      }
      await pause(Math.min(this.timing.pollMs ?? 5000, Math.max(1, this.timing.waitMs - waited)));
    }
  }

  async release(): Promise<void> {
    if (!this.ourCommit) return;
    // Delete only our own lock: if it was taken over as stale, the new holder's stays.
    await this.git.run(
      ['push', '--porcelain', `--force-with-lease=${this.ref}:${this.ourCommit}`, this.remote, `:${this.ref}`],
      { network: true },
    );
    this.ourCommit = undefined;
    await this.git.dispose();
  }
}
