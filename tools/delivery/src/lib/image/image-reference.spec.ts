import { formatImageReference, isImmutableTag, parseImageReference } from './reference';

const digest = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  it.each([
    [
      '127.0.0.1:5000/slipway/catalog:h-0123456789ab@' + digest,
      { repository: '127.0.0.1:5000/slipway/catalog', tag: 'h-0123456789ab', digest },
    ],
    ['127.0.0.1:5000/slipway/catalog', { repository: '127.0.0.1:5000/slipway/catalog' }],
    ['ghcr.io/acme/web@' + digest, { repository: 'ghcr.io/acme/web', digest }],
    ['localhost/x:v1.2.3', { repository: 'localhost/x', tag: 'v1.2.3' }],
    ['slipway/catalog:sha-1a2b3c4', { repository: 'slipway/catalog', tag: 'sha-1a2b3c4' }],
  ])('parses %s and formats it back', (text, expected) => {
    expect(parseImageReference(text)).toEqual(expected);
    expect(formatImageReference(parseImageReference(text))).toBe(text);
  });

  it.each([
    ['r/x:bad tag', /tag 'bad tag' is not a valid OCI tag/],
    ['r/x:a;rm -rf', /tag 'a;rm -rf'/],
    ['r/x:$(id)', /tag '\$\(id\)'/],
    ['r/x:t@sha256:abc', /digest 'sha256:abc'/],
    ['R/Upper:t', /'R' is not a valid repository path component/],
    ['', /is empty/],
    [' r/x:t', /surrounding whitespace/],
  ])('rejects %j naming the bad part', (text, message) => {
    expect(() => parseImageReference(text)).toThrow(message);
  });
});

describe('isImmutableTag', () => {
  it.each(['h-0123456789ab', 'sha-1a2b3c4', 'v1.2.3', '1.2.3-rc.1'])('%s names one build', (t) =>
    expect(isImmutableTag(t)).toBe(true),
  );
  it.each(['latest', 'main', 'feature-x', 'pr-42', 'v1'])('%s moves', (t) => expect(isImmutableTag(t)).toBe(false));
});
