import { buildBumpMessage, MAX_HEADER_LENGTH, parseBumpMessage } from './trailers';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const img = (project: string, tag: string, prevTag: string) => ({
  project,
  next: { repository: `127.0.0.1:5000/slipway/${project}`, tag, digest: d('a') },
  previous: { repository: `127.0.0.1:5000/slipway/${project}`, tag: prevTag, digest: d('b') },
});

describe('bump commit message', () => {
  it('is a Conventional Commit with environment and per-image trailers naming the previous value', () => {
    const message = buildBumpMessage({
      environment: 'staging',
      images: [img('catalog', 'h-0123456789ab', 'h-aaaaaaaaaaaa')],
      releasedHolds: ['catalog'],
    });
    expect(message).toBe(
      [
        'chore(deploy): staging catalog h-0123456789ab',
        '',
        'Bump 1 image of the staging environment.',
        '',
        'Slipway-Environment: staging',
        `Slipway-Image: catalog 127.0.0.1:5000/slipway/catalog:h-0123456789ab@${d('a')} (was 127.0.0.1:5000/slipway/catalog:h-aaaaaaaaaaaa@${d('b')})`,
        'Slipway-Hold-Released: catalog',
        '',
      ].join('\n'),
    );
  });

  it('round-trips through parseBumpMessage, so a rollback can be computed from git alone', () => {
    const images = [img('catalog', 'h-0123456789ab', 'h-aaaaaaaaaaaa'), img('orders', 'sha-1a2b3c4', 'sha-5d6e7f8')];
    const parsed = parseBumpMessage(buildBumpMessage({ environment: 'production', images }));
    expect(parsed).toEqual({ environment: 'production', images, releasedHolds: [] });
  });

  it('ends with extra trailers (a promotion names its source release) and still round-trips', () => {
    const images = [img('catalog', 'h-0123456789ab', 'h-aaaaaaaaaaaa')];
    const extra = [`Slipway-Promoted-From: catalog staging staging-20260101T100000Z-abcdef ${d('a')}`];
    const message = buildBumpMessage({ environment: 'production', images, trailers: extra });
    expect(message.trimEnd().split('\n').slice(-2)).toEqual([
      expect.stringMatching(/^Slipway-Image: catalog /),
      extra[0],
    ]);
    expect(parseBumpMessage(message)).toEqual({ environment: 'production', images, releasedHolds: [] });
  });

  it('keeps the header within commitlint limits for many images', () => {
    const images = Array.from({ length: 100 }, (_, i) => img(`service-${i}`, 'h-0123456789ab', 'h-aaaaaaaaaaaa'));
    const message = buildBumpMessage({ environment: 'staging', images });
    const header = message.split('\n')[0];
    expect(header.length).toBeLessThanOrEqual(MAX_HEADER_LENGTH);
    expect(header).toMatch(/^chore\(deploy\): staging 100 images \(service-0 h-0123456789ab, .* \+\d+ more\)$/);
    expect(parseBumpMessage(message)?.images).toHaveLength(100);
  });

  it('returns null for a message that is not a bump', () => {
    expect(parseBumpMessage('feat(web): a page\n\nbody\n')).toBeNull();
  });
});
