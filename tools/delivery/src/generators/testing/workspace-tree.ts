import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';

const WORKSPACE = join(__dirname, '../../../../..');

/** The files the generator reads and edits, copied from this workspace into a virtual tree. */
const SEEDED = [
  'package.json',
  '.prettierrc',
  'tsconfig.json',
  'eslint.config.mjs',
  'README.md',
  'deploy',
  'apps/catalog/package.json',
  'apps/catalog/smoke.json',
  'apps/orders/package.json',
  'apps/orders/smoke.json',
  'apps/web/package.json',
  'apps/web/smoke.json',
];

function seed(tree: Tree, path: string): void {
  const full = join(WORKSPACE, path);
  if (statSync(full).isDirectory()) {
    for (const entry of readdirSync(full)) seed(tree, relative(WORKSPACE, join(full, entry)));
  } else {
    tree.write(path, readFileSync(full));
  }
}

/** A virtual tree holding this workspace's own copies of the files the service generators edit. */
export function workspaceTree(): Tree {
  const tree = createTreeWithEmptyWorkspace();
  for (const path of SEEDED) seed(tree, path);
  return tree;
}
