import { ReleasePublishError, planReleasePublish, releaseTagsFor } from './release-publish';
import type { ImageRecord } from './record';

const record = (over: Partial<ImageRecord> = {}): ImageRecord => ({
  project: 'catalog',
  image: '127.0.0.1:5000/slipway/catalog',
  tags: ['h-0123456789ab'],
  digest: `sha256:${'a'.repeat(64)}`,
  contentTag: 'h-0123456789ab',
  revision: 'b'.repeat(40),
  version: '1.4.2',
  builtAt: '2026-01-01T00:00:00.000Z',
  reused: false,
  engine: 'buildah',
  ...over,
});

describe('release tags', () => {
  it.each([
    ['1.4.2', ['1.4.2', '1.4', '1']],
    ['0.3.0', ['0.3.0', '0.3', '0']],
    ['2.0.0-rc.1', ['2.0.0-rc.1']],
  ])('%s → %j', (version, tags) => {
    expect(releaseTagsFor('catalog', version, 'c'.repeat(40))).toEqual(tags);
  });

  it('refuses a version that is not semver', () => {
    expect(() => releaseTagsFor('catalog', '1.4', 'c'.repeat(40))).toThrow(ReleasePublishError);
    expect(() => releaseTagsFor('catalog', 'next', 'c'.repeat(40))).toThrow(/"next" of catalog is not semver/);
  });

  it('plans the tags of the recorded digest', () => {
    expect(planReleasePublish('catalog', '1.4.2', record())).toEqual({
      project: 'catalog',
      image: '127.0.0.1:5000/slipway/catalog',
      digest: `sha256:${'a'.repeat(64)}`,
      version: '1.4.2',
      tags: ['1.4.2', '1.4', '1'],
    });
  });

  it('refuses a record of another project or version', () => {
    expect(() => planReleasePublish('orders', '1.4.2', record())).toThrow(/record is for catalog, not orders/);
    expect(() => planReleasePublish('catalog', '1.5.0', record())).toThrow(/was built as version 1\.4\.2/);
  });
});
