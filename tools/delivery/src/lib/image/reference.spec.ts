import { assertValidRegistry, isLoopbackRegistry, resolveImageName } from './reference';

describe('image names', () => {
  it('defaults to <registry>/<owner>/<project>, lowercased', () => {
    expect(resolveImageName('127.0.0.1:5000', undefined, 'Slipway', 'catalog').full).toBe(
      '127.0.0.1:5000/slipway/catalog',
    );
  });
  it('accepts a repository with or without the registry prefix', () => {
    expect(resolveImageName('ghcr.io', 'ghcr.io/Acme/Shop-API', 'x', 'y').path).toBe('acme/shop-api');
    expect(resolveImageName('ghcr.io', 'acme/shop', 'x', 'y').full).toBe('ghcr.io/acme/shop');
  });
  it.each(['http://127.0.0.1:5000', '127.0.0.1:5000/path', 'bad host', 'host:port', ''])(
    'rejects registry %p naming the fix',
    (registry) => {
      expect(() => assertValidRegistry(registry)).toThrow(/Invalid registry .*e\.g\. "127\.0\.0\.1:5000"/);
    },
  );
  it.each(['slip way/catalog', 'slipway//catalog', 'slipway/-catalog', 'slipway/cat@log'])(
    'rejects repository %p',
    (repository) => {
      expect(() => resolveImageName('127.0.0.1:5000', repository, 'o', 'p')).toThrow(/Invalid repository/);
    },
  );
  it('knows loopback registries', () => {
    expect(isLoopbackRegistry('127.0.0.1:5055')).toBe(true);
    expect(isLoopbackRegistry('localhost:5000')).toBe(true);
    expect(isLoopbackRegistry('ghcr.io')).toBe(false);
  });
});
