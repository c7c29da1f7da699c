import { newIdempotencyKey } from './idempotency-key';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newIdempotencyKey', () => {
  it('uses crypto.randomUUID when the context offers it', () => {
    const source = {
      randomUUID: () => 'from-random-uuid',
      getRandomValues: jest.fn(),
    };
    expect(newIdempotencyKey(source as unknown as Crypto)).toBe('from-random-uuid');
    expect(source.getRandomValues).not.toHaveBeenCalled();
  });

  it('builds a v4 UUID from getRandomValues where randomUUID is missing (plain http)', () => {
    const allOnes = {
      getRandomValues: <T extends ArrayBufferView>(array: T) => {
        new Uint8Array(array.buffer).fill(0xff);
        return array;
      },
    };
    expect(newIdempotencyKey(allOnes as Crypto)).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff');
    const zeros = {
      getRandomValues: <T extends ArrayBufferView>(array: T) => array,
    };
    expect(newIdempotencyKey(zeros as Crypto)).toBe('00000000-0000-4000-8000-000000000000');
  });

  it('gives distinct keys from the real crypto in both modes', () => {
    const keys = new Set([newIdempotencyKey(), newIdempotencyKey()]);
    const fallback = {
      getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto),
    };
    keys.add(newIdempotencyKey(fallback as Crypto));
    keys.add(newIdempotencyKey(fallback as Crypto));
    expect(keys.size).toBe(4);
    for (const key of keys) expect(key).toMatch(UUID_V4);
  });
});
