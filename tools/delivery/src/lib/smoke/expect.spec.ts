import { parseJsonPath } from './json-path';
import { SmokeConfigError } from './config';
import {
  applicableExpectation,
  describeVersion,
  fieldMatches,
  readObserved,
  resolveExpectation,
  versionMatches,
} from './expect';
import { tempWorkspace } from './testing/config';

const imageRecord = {
  project: 'catalog',
  image: '127.0.0.1:5000/slipway/catalog',
  tags: ['sha-1a2b3c4', 'main', 'h-0123456789ab'],
  digest: `sha256:${'a'.repeat(64)}`,
  contentTag: 'h-0123456789ab',
  revision: '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b',
  version: '0.0.1',
  builtAt: '2026-01-01T00:00:00.000Z',
  reused: false,
  engine: 'buildah',
};

describe('resolveExpectation', () => {
  let ws: ReturnType<typeof tempWorkspace>;
  beforeEach(() => (ws = tempWorkspace()));
  afterEach(() => ws.cleanup());

  it('uses explicit values first, even when a record exists', () => {
    ws.write('dist/images/catalog.json', imageRecord);
    expect(
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectVersion: '2.0.0',
        expectRevision: 'abcdef1',
      }),
    ).toEqual({
      fields: { version: '2.0.0', revision: 'abcdef1' },
      source: '--expect-version --expect-revision',
    });
    // Nx parses --expect-version=2 as a number.
    expect(
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectVersion: 2,
      })?.fields,
    ).toEqual({ version: '2' });
  });

  it('reads version, revision, contentTag and digest from the image record in auto mode', () => {
    ws.write('dist/images/catalog.json', imageRecord);
    expect(resolveExpectation({ workspaceRoot: ws.root, project: 'catalog' })).toEqual({
      fields: {
        version: '0.0.1',
        revision: imageRecord.revision,
        contentTag: 'h-0123456789ab',
        digest: imageRecord.digest,
      },
      source: 'dist/images/catalog.json',
    });
  });

  it('returns no expectation in auto mode without records, and with --expect-from=none', () => {
    expect(resolveExpectation({ workspaceRoot: ws.root, project: 'catalog' })).toBeNull();
    ws.write('dist/images/catalog.json', imageRecord);
    expect(
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectFrom: 'none',
      }),
    ).toBeNull();
  });

  it('requires the image record with --expect-from=image', () => {
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectFrom: 'image',
      }),
    ).toThrow('dist/images/catalog.json does not exist: run "nx run catalog:image" first, or pass --expect-version');
  });

  it.each([
    [
      'a map by project',
      {
        catalog: { version: '3.0.0', revision: 'fedcba9' },
        orders: { version: '1.0.0' },
      },
    ],
    [
      'a projects map',
      {
        environment: 'staging',
        projects: { catalog: { version: '3.0.0', revision: 'fedcba9' } },
      },
    ],
    ['an image-record-shaped object', { project: 'catalog', version: '3.0.0', revision: 'fedcba9' }],
  ])('reads --expect-record in the shape of %s', (_label, record) => {
    ws.write('records/release.json', record);
    expect(
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectFrom: 'record',
        expectRecord: 'records/release.json',
      }),
    ).toEqual({
      fields: { version: '3.0.0', revision: 'fedcba9' },
      source: 'records/release.json',
    });
  });

  it('rejects records without the project, unreadable records and bad explicit values', () => {
    ws.write('r.json', { project: 'orders', version: '1' });
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectRecord: 'r.json',
      }),
    ).toThrow('has no entry for "catalog"');
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectRecord: 'missing.json',
      }),
    ).toThrow(/cannot read .*missing.json \(ENOENT\)/);
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectFrom: 'record',
      }),
    ).toThrow('--expect-record: is required with --expect-from=record');
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectVersion: '1.0 beta',
      }),
    ).toThrow(SmokeConfigError);
    expect(() =>
      resolveExpectation({
        workspaceRoot: ws.root,
        project: 'catalog',
        expectFrom: 'latest' as never,
      }),
    ).toThrow('"latest" is not a source');
  });
});

describe('version comparison', () => {
  const fields = {
    version: parseJsonPath('$.version'),
    revision: parseJsonPath('$.revision'),
    image: parseJsonPath('$.build.image'),
  };

  it('reads the mapped fields from the health payload', () => {
    expect(readObserved({ version: '1.0.0', revision: 'abc', build: { image: 'h-1' } }, fields)).toEqual({
      version: '1.0.0',
      revision: 'abc',
      image: 'h-1',
    });
    expect(readObserved({ version: 2 }, fields)).toEqual({
      version: '2',
      revision: undefined,
      image: undefined,
    });
  });

  it('matches versions exactly and revisions by full or ≥7-character prefix, ignoring case', () => {
    expect(fieldMatches('version', '1.0.0', '1.0.0')).toBe(true);
    expect(fieldMatches('version', '1.0', '1.0.0')).toBe(false);
    expect(fieldMatches('revision', '1A2B3C4', '1a2b3c4d5e6f')).toBe(true);
    expect(fieldMatches('revision', '1a2b3c4d5e6f', '1a2b3c4')).toBe(true);
    expect(fieldMatches('revision', '1a2b3c', '1a2b3c4d5e6f')).toBe(false);
    expect(fieldMatches('revision', '1a2b3c4', 'ffffffff')).toBe(false);
    expect(fieldMatches('revision', 'abc', undefined)).toBe(false);
    expect(
      versionMatches({ version: '1.0.0', revision: 'abcdef12' }, { version: '1.0.0', revision: 'abcdef1234' }),
    ).toBe(true);
    expect(
      versionMatches({ version: '1.0.0', revision: 'abcdef12' }, { version: '1.0.0', revision: 'bbcdef1234' }),
    ).toBe(false);
  });

  it('describes versions for messages', () => {
    expect(describeVersion({ version: '1.1.0', revision: '1a2b3c4d5e6f7a8b9c0d' })).toBe(
      '1.1.0 (revision 1a2b3c4d5e6f)',
    );
    expect(describeVersion({ revision: 'abc1234' })).toBe('revision abc1234');
    expect(describeVersion({ version: '1.0.0', revision: undefined }, ['version', 'revision'])).toBe(
      '1.0.0 (revision ?)',
    );
  });

  it('compares only the fields the gate can read, and says which were dropped', () => {
    expect(
      applicableExpectation(
        {
          fields: { version: '1', contentTag: 'h-1', digest: 'sha256:x' },
          source: 'x',
        },
        fields,
      ),
    ).toEqual({
      fields: { version: '1' },
      dropped: ['contentTag', 'digest'],
    });
    expect(applicableExpectation(null, fields)).toBeNull();
  });
});
