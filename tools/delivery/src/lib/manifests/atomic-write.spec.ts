import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { recoverInterruptedWrite, writeFilesAtomically } from './atomic-write';

describe('writeFilesAtomically', () => {
  let dir: string;
  const files = () => ['a.yaml', 'sub/b.yaml', 'c.yaml'].map((f) => path.join(dir, f));
  const read = async () => Promise.all(files().map((f) => fs.readFile(f, 'utf8')));
  const leftovers = async () => {
    const all: string[] = [];
    for (const d of [dir, path.join(dir, 'sub')])
      all.push(...(await fs.readdir(d)).filter((n) => n.includes('.slipway-')));
    return all;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'slipway-atomic-'));
    await fs.mkdir(path.join(dir, 'sub'));
    for (const [i, f] of files().entries()) await fs.writeFile(f, `old ${i}\n`);
  });
  afterEach(async () => {
    await fs.chmod(dir, 0o755).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  });

  const writes = () => files().map((f, i) => ({ path: f, content: `new ${i}\n`, expectedBefore: `old ${i}\n` }));

  it('writes every file', async () => {
    await writeFilesAtomically(writes(), { journalDir: dir });
    expect(await read()).toEqual(['new 0\n', 'new 1\n', 'new 2\n']);
    expect(await leftovers()).toEqual([]);
  });

  it('a fault on the second of three temp writes leaves all three unchanged', async () => {
    await expect(
      writeFilesAtomically(writes(), {
        journalDir: dir,
        hooks: {
          beforeTempWrite: (i) => {
            if (i === 1) throw new Error('injected: disk full');
          },
        },
      }),
    ).rejects.toThrow('injected: disk full');
    expect(await read()).toEqual(['old 0\n', 'old 1\n', 'old 2\n']);
    expect(await leftovers()).toEqual([]);
  });

  it('a fault on the second of three renames restores the first: all three unchanged', async () => {
    await expect(
      writeFilesAtomically(writes(), {
        journalDir: dir,
        hooks: {
          beforeRename: (i) => {
            if (i === 1) throw new Error('injected: rename failed');
          },
        },
      }),
    ).rejects.toThrow('injected: rename failed');
    expect(await read()).toEqual(['old 0\n', 'old 1\n', 'old 2\n']);
    expect(await leftovers()).toEqual([]);
    await expect(fs.access(path.join(dir, 'slipway-write.journal.json'))).rejects.toThrow();
  });

  it('refuses a target that changed since it was read, writing nothing', async () => {
    await fs.writeFile(files()[2], 'someone else\n');
    await expect(writeFilesAtomically(writes(), { journalDir: dir })).rejects.toThrow(
      /c\.yaml changed while the bump was being prepared/,
    );
    expect((await read()).slice(0, 2)).toEqual(['old 0\n', 'old 1\n']);
  });

  it('refuses a target that is not writable, naming it and the fix', async () => {
    if (process.getuid?.() === 0) {
      // root ignores permission bits; a missing file is the unwritable case root still hits.
      await fs.rm(files()[1]);
      await expect(writeFilesAtomically(writes(), { journalDir: dir })).rejects.toThrow(/sub\/b\.yaml does not exist/);
    } else {
      await fs.chmod(files()[1], 0o444);
      await expect(writeFilesAtomically(writes(), { journalDir: dir })).rejects.toThrow(
        /b\.yaml \(or its folder\) is not writable[\s\S]*fix: /,
      );
    }
    expect(await fs.readFile(files()[0], 'utf8')).toBe('old 0\n');
  });

  it('keeps the file mode of each target', async () => {
    await fs.chmod(files()[0], 0o600);
    await writeFilesAtomically(writes(), { journalDir: dir });
    expect((await fs.stat(files()[0])).mode & 0o777).toBe(0o600);
  });

  it('recovery rolls a committed write forward (crash after the journal, before the renames)', async () => {
    // Simulate the crash: the journal exists and temps are in place, but no rename happened.
    const crash = new Error('crash');
    await expect(
      writeFilesAtomically(writes(), {
        journalDir: dir,
        hooks: {
          afterCommitPoint: async () => {
            // Copy the journal and temps aside before the rollback removes them, as a kill -9 would leave them.
            const names = [
              ...(await fs.readdir(dir)),
              ...(await fs.readdir(path.join(dir, 'sub'))).map((n) => `sub/${n}`),
            ];
            for (const n of names.filter((x) => x.includes('.slipway-tmp-') || x.endsWith('journal.json'))) {
              await fs.copyFile(path.join(dir, n), path.join(dir, `${n}.keep`));
            }
            throw crash;
          },
        },
      }),
    ).rejects.toBe(crash);
    for (const d of [dir, path.join(dir, 'sub')]) {
      for (const n of (await fs.readdir(d)).filter((x) => x.endsWith('.keep')))
        await fs.rename(path.join(d, n), path.join(d, n.slice(0, -5)));
    }
    const { rolledForward } = await recoverInterruptedWrite(dir, [], { ownersAreDead: true });
    expect(rolledForward.sort()).toEqual(files().sort());
    expect(await read()).toEqual(['new 0\n', 'new 1\n', 'new 2\n']);
    expect(await leftovers()).toEqual([]);
  });
});
