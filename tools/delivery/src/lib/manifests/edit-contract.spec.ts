import { applySplices, lineBreakAt, lineBreakStyle, verifyEditContract } from './edit-contract';

const before = 'a: 1 # \uDCE9\nimages:\n  - name: x\n    newTag: h-1\n';
const tagAt = before.indexOf('h-1');
const edit = { start: tagAt, end: tagAt + 3, text: 'h-2' };
const intended = [{ doc: 0, path: ['images', 0, 'newTag'], value: 'h-2' }];

describe('the edit contract', () => {
  it('accepts an edit confined to the scalar, keeping non-UTF-8 bytes', () => {
    const after = applySplices(before, [edit], 'k.yaml');
    expect(() => verifyEditContract({ file: 'k.yaml', before, after, splices: [edit], intended })).not.toThrow();
  });

  it('refuses a byte changed outside the splices, naming file and line', () => {
    const after = applySplices(before, [edit], 'k.yaml').replace('a: 1', 'a: 2');
    expect(() => verifyEditContract({ file: 'k.yaml', before, after, splices: [edit], intended })).toThrow(
      /^k\.yaml:1: the bump's edit changed bytes outside the edited values; refusing to write k\.yaml\n {2}fix: /,
    );
  });

  it('refuses a value a YAML 1.1 reader misreads', () => {
    const bad = { ...edit, text: 'yes' };
    const after = applySplices(before, [bad], 'k.yaml');
    expect(() =>
      verifyEditContract({
        file: 'k.yaml',
        before,
        after,
        splices: [bad],
        intended: [{ ...intended[0], value: 'yes' }],
      }),
    ).toThrow(/k\.yaml:4: .*YAML 1\.1 readers \(Helm, kustomize\) read as true/);
  });

  it('refuses more changes than intended and invalid YAML', () => {
    const after = applySplices(before, [edit], 'k.yaml');
    expect(() => verifyEditContract({ file: 'k.yaml', before, after, splices: [edit], intended: [] })).toThrow(
      /would change more than the intended values/,
    );
    const broken = { ...edit, text: 'h-2\n  : [' };
    expect(() =>
      verifyEditContract({
        file: 'k.yaml',
        before,
        after: applySplices(before, [broken], 'k.yaml'),
        splices: [broken],
        intended,
      }),
    ).toThrow(/would produce invalid YAML/);
  });

  it('refuses a line ending that differs from the file, and mixed endings', () => {
    const crlf = 'images:\r\n  - name: x\r\n    newTag: h-1';
    const add = { start: crlf.length, end: crlf.length, text: '\n    digest: d' };
    expect(() =>
      verifyEditContract({
        file: 'k.yaml',
        before: crlf,
        after: applySplices(crlf, [add], 'k.yaml'),
        splices: [add],
        intended: [{ doc: 0, path: ['images', 0, 'digest'], value: 'd' }],
      }),
    ).toThrow(/k\.yaml:3: the bump's edit would add a LF line break to a line ending in another/);
    expect(lineBreakAt(crlf, crlf.length)).toBe('\r\n');
    expect(lineBreakStyle(crlf)).toBe('crlf');
    expect(lineBreakStyle('a\nb\r\n')).toBe('mixed');
  });
});
