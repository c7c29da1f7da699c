import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSmokeConfig, type LoadSmokeConfigOptions } from '../config';
import type { ResolvedSmokeConfig } from '../types';

/** A temp workspace with one project, for config and executor tests. Remove it with `cleanup`. */
export function tempWorkspace(project = 'catalog'): {
  root: string;
  projectRoot: string;
  write: (relative: string, content: unknown) => string;
  cleanup: () => void;
} {
  const root = mkdtempSync(join(tmpdir(), 'slipway-smoke-ws-'));
  const projectRoot = join('apps', project);
  mkdirSync(join(root, projectRoot), { recursive: true });
  writeFileSync(join(root, projectRoot, 'package.json'), JSON.stringify({ name: `@test/${project}` }));
  return {
    root,
    projectRoot,
    write(relative, content) {
      const file = join(root, relative);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      return file;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Resolves a raw smoke.json object for environment "test" (base URL http://svc.test), k6/Playwright lookups faked. */
export function configFrom(
  raw: Record<string, unknown>,
  options: Partial<LoadSmokeConfigOptions> = {},
): ResolvedSmokeConfig {
  const withEnv = {
    environments: { test: { baseUrl: 'http://svc.test' } },
    ...raw,
  };
  return resolveSmokeConfig(withEnv, {
    workspaceRoot: '/ws',
    project: 'catalog',
    projectRoot: 'apps/catalog',
    environment: 'test',
    env: {},
    findK6: () => '/opt/k6',
    findPlaywrightCli: () => '/ws/node_modules/@playwright/test/cli.js',
    configFile: '/ws/apps/catalog/smoke.json',
    label: 'apps/catalog/smoke.json',
    ...options,
  } as Parameters<typeof resolveSmokeConfig>[1]);
}
