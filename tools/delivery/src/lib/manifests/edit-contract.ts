import { isDeepStrictEqual } from 'node:util';
import { isScalar, parseAllDocuments, type Document } from 'yaml';
import { DeliveryInputError } from '../shared/errors';
import { encodeFileText } from './file-bytes';

/**
 * The byte-level contract every bump edit must meet before a file is written (pure):
 * 1. every byte outside the declared splices is unchanged (compared as bytes, in order);
 * 2. the result parses (YAML 1.2) to the original documents with exactly the intended values set;
 * 3. a YAML 1.1 reader (what Helm and kustomize use) reads each intended value as that string;
 * 4. line endings stay uniform: the added text uses the file's line break, and a file whose
 *    breaks were all LF (or all CRLF) still has only those.
 * A violation is refused with the file, the line and the problem; nothing is written.
 */
export interface Splice {
  /** Offsets into the original text (UTF-16 code units of the lossless decoding). */
  start: number;
  end: number;
  text: string;
  /** A new line added at the end of a line: at one offset it goes after the value edits (a filled `key:`). */
  newLine?: boolean;
}

export interface IntendedValue {
  doc: number;
  path: (string | number)[];
  value: string;
}

export type LineBreakStyle = 'none' | 'lf' | 'crlf' | 'cr' | 'mixed';

export function lineBreakStyle(text: string): LineBreakStyle {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  const cr = (text.match(/\r/g) ?? []).length - crlf;
  const kinds = [crlf > 0, lf > 0, cr > 0].filter(Boolean).length;
  if (kinds === 0) return 'none';
  if (kinds > 1) return 'mixed';
  return crlf > 0 ? 'crlf' : lf > 0 ? 'lf' : 'cr';
}

/** The line break to use for a line added at `offset`: the one ending that line, else the nearest one before it. */
export function lineBreakAt(text: string, offset: number): string {
  const eol = text.slice(offset).search(/\r\n|\n|\r/);
  if (eol !== -1) return /^\r\n|^\n|^\r/.exec(text.slice(offset + eol))?.[0] ?? '\n';
  const before = [...text.slice(0, offset).matchAll(/\r\n|\n|\r/g)];
  return before.length > 0 ? before[before.length - 1][0] : '\n';
}

/** Apply non-overlapping splices (inserts at one offset keep their given order). */
export function applySplices(text: string, splices: Splice[], file: string): string {
  const sorted = splices
    .map((s, index) => ({ ...s, index }))
    .sort((a, b) => a.start - b.start || Number(a.newLine ?? false) - Number(b.newLine ?? false) || a.index - b.index);
  let out = '';
  let cursor = 0;
  for (const s of sorted) {
    if (s.start < cursor || s.end < s.start) throw new Error(`overlapping edits in ${file}`);
    out += text.slice(cursor, s.start) + s.text;
    cursor = s.end;
  }
  return out + text.slice(cursor);
}

function lineOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length;
}

function refuse(file: string, text: string, offset: number, problem: string): never {
  throw new DeliveryInputError(
    `${file}:${lineOf(text, offset)}: the bump's edit ${problem}; refusing to write ${file}`,
    'nothing was written; set this value by hand once (later bumps edit it in place) and report the file as a bump bug',
  );
}

function setIn(target: unknown, path: (string | number)[], value: string): void {
  let cursor = target as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) cursor = cursor[step] as Record<string | number, unknown>;
  cursor[path[path.length - 1]] = value;
}

function parseAll(text: string, version: '1.1' | '1.2'): Document.Parsed[] {
  const docs = parseAllDocuments(text, { version, uniqueKeys: false });
  return Array.isArray(docs) ? docs : [docs as unknown as Document.Parsed];
}

export function verifyEditContract(args: {
  file: string;
  before: string;
  after: string;
  splices: Splice[];
  intended: IntendedValue[];
  /** The original documents when the caller has parsed them already (saves a parse). */
  beforeDocs?: Document.Parsed[];
}): void {
  const { file, before, after, splices, intended } = args;
  const sorted = [...splices].sort(
    (a, b) => a.start - b.start || Number(a.newLine ?? false) - Number(b.newLine ?? false),
  );
  const at = sorted[0]?.start ?? 0;

  // 1. Bytes outside the splices are identical, and the splices are exactly what was added.
  const oldBytes = encodeFileText(before);
  const newBytes = encodeFileText(after);
  let oldPos = 0;
  let newPos = 0;
  let oldCursor = 0;
  for (const s of sorted) {
    const keep = encodeFileText(before.slice(oldCursor, s.start)).length;
    const removed = encodeFileText(before.slice(s.start, s.end)).length;
    const added = encodeFileText(s.text);
    if (!oldBytes.subarray(oldPos, oldPos + keep).equals(newBytes.subarray(newPos, newPos + keep))) {
      refuse(file, before, oldCursor, 'changed bytes outside the edited values');
    }
    if (!newBytes.subarray(newPos + keep, newPos + keep + added.length).equals(added)) {
      refuse(file, before, s.start, 'did not write the intended text');
    }
    oldPos += keep + removed;
    newPos += keep + added.length;
    oldCursor = s.end;
  }
  if (!oldBytes.subarray(oldPos).equals(newBytes.subarray(newPos))) {
    refuse(file, before, oldCursor, 'changed bytes outside the edited values');
  }

  // 4. Line endings.
  const style = lineBreakStyle(before);
  for (const s of sorted) {
    const added = lineBreakStyle(s.text);
    if (added !== 'none' && added !== lineBreakStyle(lineBreakAt(before, s.start))) {
      refuse(file, before, s.start, `would add a ${added.toUpperCase()} line break to a line ending in another`);
    }
  }
  if (style !== 'mixed' && style !== 'none' && lineBreakStyle(after) !== style) {
    refuse(file, before, at, `would mix line endings in a file whose line breaks are all ${style.toUpperCase()}`);
  }

  // 2. Same documents except the intended values.
  const beforeDocs = args.beforeDocs ?? parseAll(before, '1.2');
  const afterDocs = parseAll(after, '1.2');
  const broken = afterDocs.find((d) => d.errors.length > 0);
  if (broken) refuse(file, before, at, `would produce invalid YAML (${broken.errors[0].message.split('\n')[0]})`);
  const expected = beforeDocs.map((d) => d.toJS());
  for (const v of intended) setIn(expected[v.doc], v.path, v.value);
  if (
    !isDeepStrictEqual(
      expected,
      afterDocs.map((d) => d.toJS()),
    )
  ) {
    refuse(file, before, at, 'would change more than the intended values');
  }

  // 3. YAML 1.1 readers see the intended strings.
  const afterDocs11 = parseAll(after, '1.1');
  for (const v of intended) {
    const node = afterDocs11[v.doc]?.getIn(v.path, true);
    if (!isScalar(node) || node.value !== v.value) {
      refuse(
        file,
        before,
        at,
        `would write ${v.path.join('.')} = '${v.value}' in a form YAML 1.1 readers (Helm, kustomize) read as ${JSON.stringify(isScalar(node) ? node.value : node)}`,
      );
    }
  }
}
