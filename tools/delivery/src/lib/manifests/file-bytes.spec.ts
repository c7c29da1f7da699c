import fc from 'fast-check';
import { decodeFileBytes, encodeFileText, hasNonUtf8Bytes } from './file-bytes';

describe('lossless file text', () => {
  it('round-trips any bytes exactly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(encodeFileText(decodeFileBytes(bytes)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: 18, numRuns: 2000 },
    );
  });

  it('decodes valid UTF-8 (BOM included) as UTF-8, and Latin-1 bytes as stand-ins', () => {
    expect(decodeFileBytes(Buffer.from('\uFEFFcafé € 日\r\n', 'utf8'))).toBe('\uFEFFcafé € 日\r\n');
    const latin1 = Buffer.from('# caf\xe9\nk: v\n', 'latin1');
    const text = decodeFileBytes(latin1);
    expect(text).toBe('# caf\uDCE9\nk: v\n');
    expect(hasNonUtf8Bytes(text)).toBe(true);
    expect(hasNonUtf8Bytes('# café\n')).toBe(false);
    expect(encodeFileText(text).equals(latin1)).toBe(true);
  });

  it('escapes encoded surrogates and overlong forms byte by byte', () => {
    for (const bytes of [
      [0xed, 0xb2, 0x80],
      [0xc0, 0xaf],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ]) {
      const text = decodeFileBytes(Buffer.from(bytes));
      expect(text).toHaveLength(bytes.length);
      expect(encodeFileText(text).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('refuses a lone surrogate that stands for no byte', () => {
    expect(() => encodeFileText('a\uD800b')).toThrow(/lone surrogate U\+D800/);
  });
});
