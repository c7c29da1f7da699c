import { randomBytes } from 'node:crypto';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as path from 'node:path';
import { DeliveryInputError } from '../shared/errors';
import { encodeFileText } from './file-bytes';

/**
 * All-or-nothing writes of several files.
 *
 * 1. every new content goes to a temp file beside its target (same filesystem, so rename is
 *    atomic) and is fsynced; a failure here removes the temps: nothing changed;
 * 2. a journal naming every (temp → target) pair and a hard-linked backup of each target is written
 *    and fsynced: from here the write is committed;
 * 3. the temps are renamed over the targets; a failure here restores the backups;
 * 4. the journal and backups are removed.
 * A process killed at any moment (kill -9) therefore leaves each target either old or new, never
 * torn; `recoverInterruptedWrite` rolls a committed write forward (temps still present) and
 * otherwise removes the leftovers, so the set of files ends all-old or all-new.
 */
export interface FileWrite {
  /** Absolute path of the target. */
  path: string;
  content: string;
  /** If given, the target must still have exactly this content (nobody changed it since it was read). */
  expectedBefore?: string;
}

export interface AtomicWriteHooks {
  /** Called before the temp file of write `index` is written; throw to inject a fault. */
  beforeTempWrite?: (index: number, target: string) => void | Promise<void>;
  /** Called before write `index` is renamed over its target; throw to inject a fault. */
  beforeRename?: (index: number, target: string) => void | Promise<void>;
  /** Called after the journal is durable (the commit point), before any rename. */
  afterCommitPoint?: () => void | Promise<void>;
}

interface Journal {
  version: 1;
  pid: number;
  createdAt: string;
  /** Caller data completed by its own recovery (e.g. the git ref update that goes with the files). */
  meta?: unknown;
  entries: { target: string; temp: string; backup: string | null }[];
}

const JOURNAL_NAME = 'slipway-write.journal.json';
const TEMP_MARK = '.slipway-tmp-';
const BACKUP_MARK = '.slipway-bak-';

async function fsyncPath(p: string): Promise<void> {
  const handle = await fs.open(p, 'r');
  try {
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await handle.close();
  }
}

async function writeDurable(file: string, content: string, mode?: number): Promise<void> {
  const handle = await fs.open(file, 'wx', mode ?? 0o644);
  try {
    // The lossless encoding (file-bytes.ts): text decoded from a non-UTF-8 file gets its bytes back.
    await handle.writeFile(encodeFileText(content));
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (mode !== undefined) await fs.chmod(file, mode);
}

function sibling(target: string, mark: string, token: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}${mark}${process.pid}-${token}`);
}

async function removeQuietly(p: string | null | undefined): Promise<void> {
  if (p) await fs.rm(p, { force: true });
}

/** Check up front that every target exists, is a file, is writable, and still has the expected content. */
export async function preflightWrites(writes: FileWrite[]): Promise<void> {
  for (const w of writes) {
    let stat;
    try {
      stat = await fs.stat(w.path);
    } catch {
      throw new DeliveryInputError(`${w.path} does not exist`, 'create the file first, or fix the target path');
    }
    if (!stat.isFile()) throw new DeliveryInputError(`${w.path} is not a regular file`, 'point the target at a file');
    try {
      await fs.access(w.path, fsConstants.W_OK);
      await fs.access(path.dirname(w.path), fsConstants.W_OK);
    } catch {
      throw new DeliveryInputError(
        `${w.path} (or its folder) is not writable by this user`,
        `fix the permissions (e.g. chmod u+w '${w.path}') and run again`,
      );
    }
    if (w.expectedBefore !== undefined) {
      const now = await fs.readFile(w.path);
      if (!now.equals(encodeFileText(w.expectedBefore))) {
        throw new DeliveryInputError(`${w.path} changed while the bump was being prepared`, 'run the bump again');
      }
    }
  }
}

export async function writeFilesAtomically(
  writes: FileWrite[],
  opts: { journalDir: string; hooks?: AtomicWriteHooks; meta?: unknown },
): Promise<void> {
  if (writes.length === 0) return;
  const hooks = opts.hooks ?? {};
  await preflightWrites(writes);
  const token = randomBytes(4).toString('hex');
  const entries: Journal['entries'] = writes.map((w) => ({
    target: w.path,
    temp: sibling(w.path, TEMP_MARK, token),
    backup: null,
  }));
  const journalPath = path.join(opts.journalDir, JOURNAL_NAME);
  try {
    for (let i = 0; i < writes.length; i++) {
      await hooks.beforeTempWrite?.(i, writes[i].path);
      const mode = (await fs.stat(writes[i].path)).mode & 0o7777;
      await writeDurable(entries[i].temp, writes[i].content, mode);
    }
    for (const e of entries) {
      e.backup = sibling(e.target, BACKUP_MARK, token);
      await fs.link(e.target, e.backup);
    }
  } catch (error) {
    for (const e of entries) {
      await removeQuietly(e.temp);
      await removeQuietly(e.backup);
    }
    throw error;
  }

  const journal: Journal = {
    version: 1,
    pid: process.pid,
    createdAt: new Date().toISOString(),
    meta: opts.meta,
    entries,
  };
  const journalTemp = `${journalPath}.${token}.tmp`;
  try {
    await fs.mkdir(opts.journalDir, { recursive: true });
    await writeDurable(journalTemp, JSON.stringify(journal, null, 2));
    await fs.rename(journalTemp, journalPath);
    await fsyncPath(opts.journalDir);
  } catch (error) {
    await removeQuietly(journalTemp);
    for (const e of entries) {
      await removeQuietly(e.temp);
      await removeQuietly(e.backup);
    }
    throw error;
  }

  let renamed = 0;
  try {
    await hooks.afterCommitPoint?.();
    for (let i = 0; i < entries.length; i++) {
      await hooks.beforeRename?.(i, entries[i].target);
      await fs.rename(entries[i].temp, entries[i].target);
      renamed++;
    }
    for (const dir of new Set(entries.map((e) => path.dirname(e.target)))) await fsyncPath(dir);
  } catch (error) {
    // Roll back what was renamed: the backups are hard links to the old contents.
    for (let i = 0; i < renamed; i++) {
      const e = entries[i];
      if (e.backup) await fs.rename(e.backup, e.target);
    }
    for (const e of entries) {
      await removeQuietly(e.temp);
      await removeQuietly(e.backup);
    }
    await removeQuietly(journalPath);
    throw error;
  }
  for (const e of entries) await removeQuietly(e.backup);
  await removeQuietly(journalPath);
}

/**
 * Finish or undo a write interrupted by a crash. A journal means the commit point was passed: every
 * temp still present is renamed over its target (roll forward). Without a journal, stray temps and
 * backups from a dead process are removed (the targets were never touched).
 * Returns the targets that were rolled forward and the journal's caller data (to finish its part).
 */
export async function recoverInterruptedWrite(
  journalDir: string,
  scanDirs: string[] = [],
  opts: { ownersAreDead?: boolean } = {},
): Promise<{ rolledForward: string[]; meta?: unknown; createdAt?: string }> {
  // Under the caller's lock no other writer runs, so a journal or temp can only be a crash's leftover
  // (even if its pid has since been reused).
  const dead = (pid: number) => opts.ownersAreDead === true || !isAlive(pid);
  const journalPath = path.join(journalDir, JOURNAL_NAME);
  const rolledForward: string[] = [];
  let journal: Journal | undefined;
  try {
    journal = JSON.parse(await fs.readFile(journalPath, 'utf8')) as Journal;
  } catch {
    journal = undefined;
  }
  if (journal && dead(journal.pid)) {
    for (const e of journal.entries) {
      try {
        await fs.rename(e.temp, e.target);
        rolledForward.push(e.target);
      } catch {
        // Already renamed before the crash.
      }
      await removeQuietly(e.backup);
    }
    for (const dir of new Set(journal.entries.map((e) => path.dirname(e.target)))) await fsyncPath(dir);
    await removeQuietly(journalPath);
  }
  for (const dir of new Set([...scanDirs, ...(journal?.entries.map((e) => path.dirname(e.target)) ?? [])])) {
    let names: string[] = [];
    try {
      names = await fs.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /\.slipway-(?:tmp|bak)-(\d+)-[0-9a-f]+$/.exec(name);
      if (m && dead(Number(m[1]))) await removeQuietly(path.join(dir, name));
    }
  }
  try {
    for (const name of await fs.readdir(journalDir)) {
      if (name.startsWith(`${JOURNAL_NAME}.`) && name.endsWith('.tmp'))
        await removeQuietly(path.join(journalDir, name));
    }
  } catch {
    // No journal dir yet.
  }
  const owned = journal && dead(journal.pid);
  return { rolledForward, meta: owned ? journal?.meta : undefined, createdAt: owned ? journal?.createdAt : undefined };
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
