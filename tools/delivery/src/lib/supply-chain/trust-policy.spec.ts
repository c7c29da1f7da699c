import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseTrustPolicies, resolveTrustPolicy } from './trust-policy';

const WORKSPACE = resolve(__dirname, '../../../../..');

describe('trust policies', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'slipway-trust-'));
    mkdirSync(join(root, 'deploy'));
    mkdirSync(join(root, 'keys'));
    writeFileSync(join(root, 'keys/release.pub'), '-----BEGIN PUBLIC KEY-----\n');
    writeFileSync(
      join(root, 'deploy/trust-policies.json'),
      JSON.stringify({
        policies: {
          release: { publicKey: 'keys/release.pub' },
          ci: {
            keyless: {
              issuer: 'https://token.actions.githubusercontent.com',
              identity: 'https://github.com/a/b/.github/workflows/r.yml@refs/heads/main',
            },
          },
          gone: { publicKey: 'keys/missing.pub' },
        },
      }),
    );
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('resolves a key policy to its absolute public key and a keyless one to identity and issuer', () => {
    expect(resolveTrustPolicy('release', root)).toEqual({
      kind: 'key',
      name: 'release',
      publicKeyFile: join(root, 'keys/release.pub'),
    });
    expect(resolveTrustPolicy('ci', root)).toMatchObject({
      kind: 'keyless',
      issuer: 'https://token.actions.githubusercontent.com',
    });
  });

  it('an unknown name lists the known ones; a missing key file names the file and the fix', () => {
    expect(() => resolveTrustPolicy('prod', root)).toThrow(
      /unknown trust policy 'prod'[\s\S]*use one of release, ci, gone/,
    );
    expect(() => resolveTrustPolicy('gone', root)).toThrow(/public key keys\/missing.pub does not exist/);
  });

  it('rejects entries with both or neither identity, and unknown fields', () => {
    const issuer = 'https://token.actions.githubusercontent.com';
    expect(() => parseTrustPolicies(JSON.stringify({ policies: { x: { keyless: { issuer } } } }), 'f.json')).toThrow(
      /exactly one of keyless.identity or keyless.identityRegexp/,
    );
    expect(() =>
      parseTrustPolicies(JSON.stringify({ policies: { x: { publicKey: 'a', extra: 1 } } }), 'f.json'),
    ).toThrow(/f.json is not a trust policy file/);
  });

  it("the repository's own file parses and names the policies deploy/package.json uses", () => {
    const deploy = require(join(WORKSPACE, 'deploy/package.json')) as {
      nx: { targets: Record<string, { executor?: string; options?: { trustPolicy?: string } }> };
    };
    const { policies } = parseTrustPolicies(
      require('node:fs').readFileSync(join(WORKSPACE, 'deploy/trust-policies.json'), 'utf8'),
      'deploy/trust-policies.json',
    );
    const named = Object.values(deploy.nx.targets)
      .filter((t) => t.executor === '@slipway/delivery:deploy')
      .map((t) => t.options?.trustPolicy)
      // Environments that name no policy deploy unverified (and say so); every name given must exist.
      .filter((name): name is string => name !== undefined);
    expect(named.length).toBeGreaterThan(0);
    for (const name of named) expect(Object.keys(policies)).toContain(name);
  });
});
