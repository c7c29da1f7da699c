import fc from 'fast-check';
import { parse } from 'yaml';
import { plainScalarKeepsString, scalarSource } from './yaml-scalar-safety';

const ISSUE_LIST = ['yes', 'no', 'on', 'off', 'y', 'n', 'true', 'null', '1e3', '0x1F', '0o17', '012', '0b101', '1_000'];

describe('YAML scalar safety (the one quoting rule)', () => {
  it('quotes every value of the issue, timestamps, floats, sexagesimals and .inf', () => {
    for (const v of [
      ...ISSUE_LIST,
      '2001-12-14',
      '1.0',
      '.inf',
      '-.Inf',
      '.NaN',
      '1:20',
      '190:20:30.15',
      '~',
      '<<',
      '=',
    ]) {
      expect(plainScalarKeepsString(v)).toBe(false);
      expect(scalarSource(v)).toBe(JSON.stringify(v));
    }
  });

  it('keeps ordinary references plain', () => {
    for (const v of [
      'h-0123456789ab',
      'sha-1a2b3c4',
      `sha256:${'a'.repeat(64)}`,
      '127.0.0.1:5000/slipway/catalog',
      'v1.2.3-rc.1',
    ]) {
      expect(plainScalarKeepsString(v)).toBe(true);
      expect(scalarSource(v)).toBe(v);
    }
  });

  it("keeps the file's own quote style", () => {
    expect(scalarSource('yes', 'QUOTE_SINGLE')).toBe("'yes'");
    expect(scalarSource('h-1', 'QUOTE_SINGLE')).toBe("'h-1'");
    expect(scalarSource('h-1', 'QUOTE_DOUBLE')).toBe('"h-1"');
  });

  it('every valid OCI tag is read back as the same string by YAML 1.1 and 1.2 readers', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...ISSUE_LIST), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/)),
        fc.constantFrom('PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE' as const),
        (tag, style) => {
          const text = `k: ${scalarSource(tag, style as 'PLAIN')}\n`;
          expect(parse(text, { version: '1.1' }).k).toBe(tag);
          expect(parse(text, { version: '1.2' }).k).toBe(tag);
        },
      ),
      { seed: 18, numRuns: 1000 },
    );
  });
});
