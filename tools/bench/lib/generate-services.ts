// Generates `count` services with the service generator in one process (the bench's setup, not a
// measurement): node -r @swc-node/register tools/bench/lib/generate-services.ts <count> [prefix]
// Run from the workspace root. Writes the files; `npm install --package-lock-only` comes after.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FsTree } from 'nx/src/devkit-internals';
import { serviceGenerator } from '../../delivery/src/generators/service/generator';

async function main(): Promise<void> {
  const count = Number(process.argv[2]);
  const prefix = process.argv[3] ?? 'svc';
  if (!Number.isInteger(count) || count < 1) throw new Error(`count "${process.argv[2]}" is not a positive integer`);
  const root = process.cwd();
  for (let i = 1; i <= count; i++) {
    // One tree per service, written before the next: formatFiles formats every change a tree
    // holds, so one tree for all of them would format the first service 200 times.
    const tree = new FsTree(root, false);
    const name = `${prefix}-${String(i).padStart(3, '0')}`;
    await serviceGenerator(tree, { name, database: i % 2 === 0 ? 'postgres' : 'none', skipInstall: true });
    for (const change of tree.listChanges()) {
      const path = join(root, change.path);
      if (change.type === 'DELETE') rmSync(path, { recursive: true, force: true });
      else {
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, change.content as Buffer);
      }
    }
  }
  process.stdout.write(`generated ${count} services (${prefix}-001..${prefix}-${String(count).padStart(3, '0')})\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
