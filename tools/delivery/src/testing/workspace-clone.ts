import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';

/*
 * Helpers for the end-to-end suites that work in a temporary clone of this repository (its
 * committed HEAD), so the developer's working tree, registry and stack are never touched.
 */

/** The workspace root, seen from this file. */
export const WORKSPACE_ROOT = path.resolve(__dirname, '../../../..');

export async function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` free ports of the suite's own range `[from, from + 99]`, starting at a pid-dependent
 * offset so concurrent runs rarely probe the same ports first.
 */
export async function freePorts(count: number, from: number): Promise<number[]> {
  const found: number[] = [];
  const start = (process.pid % 25) * 4;
  for (let i = 0; i < 100 && found.length < count; i++) {
    const port = from + ((start + i) % 100);
    if (await isFree(port)) found.push(port);
  }
  if (found.length < count) throw new Error(`fewer than ${count} free ports in ${from}-${from + 99}`);
  return found;
}

/**
 * The clone's node_modules: a link to each package of the workspace's node_modules, except the
 * workspace's own packages (@slipway/*), which link to the clone's copies (npm's relative links),
 * so the clone builds its own libraries and never reads or writes the developer's tree.
 */
export function linkNodeModules(source: string, clone: string): void {
  const from = path.join(source, 'node_modules');
  const to = path.join(clone, 'node_modules');
  mkdirSync(to);
  for (const entry of readdirSync(from)) {
    if (entry === '.cache') continue;
    if (entry === '@slipway') {
      mkdirSync(path.join(to, entry));
      for (const pkg of readdirSync(path.join(from, entry)))
        symlinkSync(readlinkSync(path.join(from, entry, pkg)), path.join(to, entry, pkg));
      continue;
    }
    symlinkSync(path.join(from, entry), path.join(to, entry));
  }
}

/**
 * `git clone` of the workspace's committed HEAD into `into`, with node_modules linked as above and
 * the clone's own local signing key (what setup makes), so its releases sign and verify their images.
 */
export function cloneWorkspace(into: string, source = WORKSPACE_ROOT): void {
  const cloned = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', source, into], { encoding: 'utf8' });
  if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
  linkNodeModules(source, into);
  const key = spawnSync('bash', ['tools/scripts/local-signing-key.sh'], { cwd: into, encoding: 'utf8' });
  if (key.status !== 0) throw new Error(`local-signing-key.sh failed in the clone: ${key.stderr}`);
}
