import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  Lockfile,
  cacachePath,
  copyOfflineTarballs,
  pruneToExternals,
  resolveLocation,
  tarballUrl,
} from './runtime-manifest';

const lock: Lockfile = {
  lockfileVersion: 3,
  packages: {
    '': { name: 'root' },
    'apps/catalog': { name: '@slipway/catalog', version: '0.0.1' },
    'node_modules/@slipway/catalog': { resolved: 'apps/catalog', link: true },
    'node_modules/wasm-db': {
      version: '1.0.0',
      integrity: 'sha512-AAAA',
      dependencies: { tiny: '^2.0.0' },
      optionalDependencies: { 'not-there': '1' },
    },
    'node_modules/wasm-db/node_modules/tiny': { version: '2.1.0', integrity: 'sha512-BBBB', dev: true },
    'node_modules/tiny': { version: '1.0.0', integrity: 'sha512-CCCC' },
    'node_modules/native': {
      version: '3.0.0',
      resolved: 'https://example.test/native-3.0.0.tgz',
      integrity: 'sha512-DDDD',
      peerDependencies: { tiny: '*', opt: '*' },
      peerDependenciesMeta: { opt: { optional: true } },
    },
    'node_modules/fastify': { version: '5.2.2', integrity: 'sha512-EEEE' },
  },
};

describe('runtime manifest', () => {
  it('resolves dependencies the way npm nests them', () => {
    expect(resolveLocation(lock.packages, 'node_modules/wasm-db', 'tiny')).toBe(
      'node_modules/wasm-db/node_modules/tiny',
    );
    expect(resolveLocation(lock.packages, 'node_modules/native', 'tiny')).toBe('node_modules/tiny');
    expect(resolveLocation(lock.packages, '', 'missing')).toBeUndefined();
  });

  it('keeps exactly the externals and their dependency closure, with resolved URLs and no dev flags', () => {
    const manifest = pruneToExternals({
      rootLock: lock,
      name: '@slipway/catalog',
      version: '0.0.1',
      externals: ['wasm-db', 'native', 'pg-native'],
      registry: 'https://registry.example/',
    });
    expect(manifest.packageJson).toEqual({
      name: '@slipway/catalog',
      version: '0.0.1',
      private: true,
      dependencies: { 'wasm-db': '1.0.0', native: '3.0.0' },
    });
    expect(Object.keys(manifest.lockfile.packages)).toEqual([
      '',
      'node_modules/native',
      'node_modules/tiny',
      'node_modules/wasm-db',
      'node_modules/wasm-db/node_modules/tiny',
    ]);
    expect(manifest.lockfile.packages['node_modules/wasm-db']?.resolved).toBe(
      'https://registry.example/wasm-db/-/wasm-db-1.0.0.tgz',
    );
    expect(manifest.lockfile.packages['node_modules/native']?.resolved).toBe('https://example.test/native-3.0.0.tgz');
    expect(manifest.lockfile.packages['node_modules/wasm-db/node_modules/tiny']?.dev).toBeUndefined();
    expect(manifest.lockfile.packages['node_modules/fastify']).toBeUndefined();
    expect(manifest.skipped).toEqual(['pg-native']);
    expect(manifest.lockfile.lockfileVersion).toBe(3);
  });

  it('refuses a workspace package as external', () => {
    expect(() =>
      pruneToExternals({ rootLock: lock, name: 'x', version: '1', externals: ['@slipway/catalog'], registry: 'r/' }),
    ).toThrow(/workspace package: workspace libs are bundled/);
  });

  it('builds scoped tarball URLs', () => {
    expect(tarballUrl('https://registry.npmjs.org', '@electric-sql/pglite', '0.3.14')).toBe(
      'https://registry.npmjs.org/@electric-sql/pglite/-/pglite-0.3.14.tgz',
    );
  });

  it('copies tarballs by integrity from the host cache and reports what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'slipway-image-rm-'));
    try {
      const host = join(dir, 'host');
      const integrity = `sha512-${Buffer.from('tarball-bytes').toString('base64')}`;
      const source = cacachePath(host, integrity);
      mkdirSync(dirname(source), { recursive: true });
      writeFileSync(source, 'tarball-bytes');
      const small: Lockfile = {
        lockfileVersion: 3,
        packages: {
          '': {},
          'node_modules/a': { version: '1.0.0', integrity },
          'node_modules/b': { version: '1.0.0', integrity: 'sha512-ZZZZ' },
        },
      };
      const result = copyOfflineTarballs(small, host, join(dir, 'offline'));
      expect(result).toEqual({ copied: ['node_modules/a'], missing: ['node_modules/b'] });
      expect(readFileSync(cacachePath(join(dir, 'offline'), integrity), 'utf8')).toBe('tarball-bytes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
