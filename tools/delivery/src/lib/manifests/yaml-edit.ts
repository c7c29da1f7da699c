import {
  Composer,
  CST,
  type Document,
  isAlias,
  isCollection,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  Scalar,
  visit,
  YAMLMap,
  type Node as YamlNode,
} from 'yaml';
import { applySplices, lineBreakAt, verifyEditContract, type Splice } from './edit-contract';
import { DeliveryInputError } from '../shared/errors';
import { scalarSource, type QuoteStyle } from './yaml-scalar-safety';

/**
 * Byte-preserving YAML edits. Documents are composed with their CST tokens kept, nodes are located
 * through the Document API, and each change becomes a splice of the original text: a scalar's raw
 * source is replaced by the new value in the same quoting style (quoted where a YAML 1.1 or 1.2
 * reader would misread it plain, see yaml-scalar-safety), an empty placeholder is filled where its
 * value belongs, and a missing key is inserted as one new line beside its siblings. Everything
 * outside those ranges stays byte-identical; `applyTextEdits` then holds the result to the edit
 * contract (edit-contract.ts) before anything is written. The text is the lossless decoding of the
 * file's bytes (file-bytes.ts), so a non-UTF-8 comment survives too.
 */
export interface ParsedYaml {
  file: string;
  source: string;
  docs: Document.Parsed[];
  lines: LineCounter;
}

export type TextEdit = Splice;

/** A change to the data, used to verify an edited file: set `value` at `path` in document `doc`. */
export interface ExpectedChange {
  doc: number;
  path: (string | number)[];
  value: string;
}

export function parseYamlForEdit(source: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ keepSourceTokens: true, uniqueKeys: true, prettyErrors: false });
  const docs = [...composer.compose(parser.parse(source), true, source.length)] as Document.Parsed[];
  for (const doc of docs) {
    const error = doc.errors[0];
    if (error) {
      const { line, col } = lines.linePos(error.pos[0]);
      const duplicate = error.code === 'DUPLICATE_KEY';
      throw new DeliveryInputError(
        `${file}:${line}:${col}: ${duplicate ? 'duplicate key' : 'YAML error'}: ${error.message.split('\n')[0]}`,
        duplicate ? 'keep one of the duplicated keys (YAML maps must have unique keys)' : 'fix the YAML syntax',
      );
    }
  }
  return { file, source, docs, lines };
}

export function lineOf(parsed: ParsedYaml, offset: number): number {
  return parsed.lines.linePos(offset).line;
}

/**
 * Refuse to edit through YAML anchors and aliases: changing an anchored scalar would silently change
 * every alias of it, and an alias can not be edited in place.
 */
export function assertNoAnchors(parsed: ParsedYaml, node: YamlNode | null | undefined, what: string): void {
  if (!node) return;
  const offending: { kind: string; offset: number; name: string }[] = [];
  const check = (n: YamlNode) => {
    if (isAlias(n)) offending.push({ kind: 'alias', offset: n.range?.[0] ?? 0, name: `*${n.source}` });
    else if (n.anchor) offending.push({ kind: 'anchor', offset: n.range?.[0] ?? 0, name: `&${n.anchor}` });
  };
  check(node);
  if (isCollection(node)) {
    visit(node, {
      Node: (_key, n) => {
        check(n as YamlNode);
      },
      Pair: (_key, pair) => {
        if (pair.key && typeof pair.key === 'object') check(pair.key as YamlNode);
      },
    });
  }
  const first = offending[0];
  if (first) {
    throw new DeliveryInputError(
      `${parsed.file}:${lineOf(parsed, first.offset)}: ${what} uses a YAML ${first.kind} (${first.name}); an in-place edit would change every use of it`,
      'write the values out in full (no &anchor / *alias) in the part of the file the bump edits',
    );
  }
}

export function mapScalar(map: YAMLMap, key: string): Scalar | undefined {
  const node = map.get(key, true) as unknown;
  if (node === undefined) return undefined;
  if (!isScalar(node)) return undefined;
  return node;
}

export function scalarString(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  const v = node.value;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** A `key:` with no value, `~` or `null`: a placeholder left for CI to fill. */
export function isPlaceholder(node: Scalar): boolean {
  if (node.value !== null) return false;
  const token = node.srcToken as CST.Token | undefined;
  return !token || (token.type === 'scalar' && /^(?:~|null|Null|NULL|)$/.test(token.source));
}

function styleOf(node: unknown): QuoteStyle {
  if (!isScalar(node) || isPlaceholder(node)) return 'PLAIN';
  return node.type === 'QUOTE_SINGLE' || node.type === 'QUOTE_DOUBLE' ? node.type : 'PLAIN';
}

/** The quote style the sibling values of `map` share (a file that quotes its values keeps doing so). */
export function siblingStyle(map: YAMLMap): QuoteStyle {
  const styles = new Set(
    map.items.filter((p) => isScalar(p.value) && !isPlaceholder(p.value)).map((p) => styleOf(p.value)),
  );
  return styles.size === 1 ? [...styles][0] : 'PLAIN';
}

/**
 * Fill an empty placeholder in place: `digest:` (nothing after the colon, maybe a comment) gets the
 * value inserted where the value belongs, keeping the spacing and the comment; `~` / `null` are
 * replaced. The value takes the sibling values' quote style, and is quoted when plain would not read
 * back as the string.
 */
function fillPlaceholderEdit(parsed: ParsedYaml, node: Scalar, value: string, style: QuoteStyle): TextEdit {
  const text = scalarSource(value, style);
  const token = node.srcToken as CST.Token | undefined;
  if (token && token.type === 'scalar' && token.source !== '') {
    return { start: token.offset, end: token.offset + token.source.length, text };
  }
  const at = node.range?.[0] ?? 0;
  const { source } = parsed;
  const before = source[at - 1];
  const prefix = before === ' ' || before === '\t' ? '' : ' ';
  const suffix = source[at] === '#' ? ' ' : '';
  return { start: at, end: at, text: `${prefix}${text}${suffix}` };
}

/**
 * The new raw source for an existing scalar, keeping its quoting style where that is safe; an empty
 * or null placeholder is filled in place (`siblings` gives the quote style to use there).
 */
export function replaceScalarEdit(
  parsed: ParsedYaml,
  node: Scalar,
  value: string,
  what: string,
  siblings?: YAMLMap,
): TextEdit {
  if (isPlaceholder(node)) return fillPlaceholderEdit(parsed, node, value, siblings ? siblingStyle(siblings) : 'PLAIN');
  const token = node.srcToken as CST.Token | undefined;
  if (
    !token ||
    (token.type !== 'scalar' && token.type !== 'single-quoted-scalar' && token.type !== 'double-quoted-scalar')
  ) {
    throw new DeliveryInputError(
      `${parsed.file}:${lineOf(parsed, node.range?.[0] ?? 0)}: ${what} is not a single-line scalar (block scalars can not be edited in place)`,
      `write ${what} as a plain or quoted scalar on one line`,
    );
  }
  const style: QuoteStyle =
    token.type === 'single-quoted-scalar'
      ? 'QUOTE_SINGLE'
      : token.type === 'double-quoted-scalar'
        ? 'QUOTE_DOUBLE'
        : 'PLAIN';
  const text = scalarSource(value, style);
  if (/[\n\r]/.test(text)) {
    throw new DeliveryInputError(
      `${parsed.file}:${lineOf(parsed, token.offset)}: ${what}: the value '${value}' can not be written on one line`,
      'give a value without line breaks',
    );
  }
  return { start: token.offset, end: token.offset + token.source.length, text };
}

function lineStartOf(source: string, offset: number): number {
  return Math.max(source.lastIndexOf('\n', offset - 1), source.lastIndexOf('\r', offset - 1)) + 1;
}

/**
 * Where a new `key: value` line goes in a block map whose last entry is a block scalar (`|`, `>`)
 * or a nested collection: before that entry (and before the comment lines directly above it), at
 * the entry's indentation. Refused when that entry shares its line with the sequence dash.
 */
function insertBeforeLastPair(
  parsed: ParsedYaml,
  lastKey: YamlNode & { range: NonNullable<YamlNode['range']> },
  key: string,
  scalar: string,
  what: string,
): TextEdit {
  const { source } = parsed;
  const keyStart = lastKey.range[0];
  const lineStart = lineStartOf(source, keyStart);
  const lastName = String(scalarString(lastKey) ?? '?');
  if (!/^[ ]*$/.test(source.slice(lineStart, keyStart))) {
    throw new DeliveryInputError(
      `${parsed.file}:${lineOf(parsed, keyStart)}: ${what}: its last entry '${lastName}' is a block value on the line of the entry's start, so '${key}' can not be added beside it`,
      `add ${key}: to ${what} by hand once, on its own line before '${lastName}:' (later bumps edit it in place)`,
    );
  }
  const indent = source.slice(lineStart, keyStart);
  // Comment lines directly above the entry stay attached to it: the new line goes above them.
  let at = lineStart;
  while (at > 0) {
    const breakLen = source.slice(at - 2, at) === '\r\n' ? 2 : 1;
    const prevStart = lineStartOf(source, at - breakLen);
    if (!/^[ \t]*#/.test(source.slice(prevStart, at - breakLen))) break;
    at = prevStart;
  }
  const newline = lineBreakAt(source, lineStart);
  return { start: at, end: at, text: `${indent}${key}: ${scalar}${newline}` };
}

/**
 * Insert `key: value` into a map after its last pair: a new line at the siblings' indentation for a
 * block map, `, key: value` for a flow map. A last entry holding a block scalar or a collection gets
 * the new key before it instead (after it would be inside that value).
 */
export function insertPairEdit(
  parsed: ParsedYaml,
  map: YAMLMap,
  key: string,
  value: string,
  what: string,
  insertedBefore = 0,
): TextEdit {
  const last = map.items[map.items.length - 1];
  const lastKey = last?.key as YamlNode | undefined;
  const lastValue = last?.value as YamlNode | undefined;
  if (!last && map.flow && map.range && parsed.source[map.range[0]] === '{') {
    // `image: {}` (a common placeholder): the keys go between the braces, in the order they are added.
    const at = map.range[0] + 1;
    return { start: at, end: at, text: `${insertedBefore > 0 ? ', ' : ''}${key}: ${scalarSource(value)}` };
  }
  if (!last || !lastKey?.range || !lastValue?.range) {
    throw new DeliveryInputError(
      `${parsed.file}: ${what} is an empty map; can not add '${key}' beside nothing`,
      `add ${key}: by hand once`,
    );
  }
  const scalar = scalarSource(value, siblingStyle(map));
  if (map.flow) {
    return { start: lastValue.range[1], end: lastValue.range[1], text: `, ${key}: ${scalar}` };
  }
  const token = isScalar(lastValue) ? (lastValue.srcToken as CST.Token | undefined) : undefined;
  if (!isScalar(lastValue) || token?.type === 'block-scalar') {
    return insertBeforeLastPair(parsed, lastKey as never, key, scalar, what);
  }
  const { source } = parsed;
  const keyStart = lastKey.range[0];
  // Block-map keys share one column, whatever precedes the first one on its line (`-   name:`).
  const col = keyStart - lineStartOf(source, keyStart);
  const rest = source.slice(lastValue.range[1]).search(/\r\n|\n|\r/);
  const at = rest === -1 ? source.length : lastValue.range[1] + rest;
  const newline = lineBreakAt(source, at);
  return { start: at, end: at, text: `${newline}${' '.repeat(col)}${key}: ${scalar}`, newLine: true };
}

/**
 * Apply non-overlapping splices, then hold the result to the byte-level edit contract (every other
 * byte unchanged, same documents except the intended values, YAML 1.1 readers agree, uniform line
 * endings); a violation is refused before anything is written.
 */
export function applyTextEdits(parsed: ParsedYaml, edits: TextEdit[], expected: ExpectedChange[]): string {
  const out = applySplices(parsed.source, edits, parsed.file);
  verifyEditContract({
    file: parsed.file,
    before: parsed.source,
    after: out,
    splices: edits,
    intended: expected,
    beforeDocs: parsed.docs,
  });
  return out;
}

export { isMap, isSeq, isScalar };
