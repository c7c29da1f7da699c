import { isDeepStrictEqual } from 'node:util';
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
  parseAllDocuments,
  Scalar,
  visit,
  YAMLMap,
  type Node as YamlNode,
} from 'yaml';
import { DeliveryInputError } from '../shared/errors';

/**
 * Byte-preserving YAML edits. Documents are composed with their CST tokens kept, nodes are located
 * through the Document API, and each change becomes a splice of the original text: a scalar's raw
 * source is replaced by the source `CST.setScalarValue` produces for the new value (so its quoting
 * style is kept), and a missing key is inserted as one new line beside its siblings. Everything
 * outside those ranges stays byte-identical; `applyTextEdits` then re-parses the result and checks
 * that the data changed exactly as intended and nowhere else.
 */
export interface ParsedYaml {
  file: string;
  source: string;
  docs: Document.Parsed[];
  lines: LineCounter;
}

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

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

const CORE_SCHEMA_WORDS = /^(?:true|false|null|True|False|Null|TRUE|FALSE|NULL)$/;

/** Whether a string written as a plain scalar would read back as that same string. */
function plainReadsBackAsString(value: string): boolean {
  if (value === '' || /[\n\r]/.test(value)) return false;
  // Fast path for image names, tags and digests: a letter first and no YAML indicator characters.
  if (/^[A-Za-z][A-Za-z0-9._/@-]*(?::[A-Za-z0-9._/@-]+)*$/.test(value)) return !CORE_SCHEMA_WORDS.test(value);
  const parsed = parseAllDocuments(`k: ${value}\n`);
  const first = Array.isArray(parsed) ? parsed[0] : parsed;
  return first.errors.length === 0 && first.get('k') === value;
}

/** The new raw source for an existing scalar, keeping its quoting style where that is safe. */
export function replaceScalarEdit(parsed: ParsedYaml, node: Scalar, value: string, what: string): TextEdit {
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
  const clone: CST.FlowScalar = { ...token, end: token.end ? [...token.end] : undefined };
  const keepPlain = token.type !== 'scalar' || plainReadsBackAsString(value);
  CST.setScalarValue(clone, value, { type: keepPlain ? undefined : 'QUOTE_DOUBLE' });
  if ((clone.type as string) === 'block-scalar' || clone.source.includes('\n')) {
    throw new DeliveryInputError(`${parsed.file}: ${what}: the value '${value}' can not be written on one line`);
  }
  return { start: token.offset, end: token.offset + token.source.length, text: clone.source };
}

function lineStartOf(source: string, offset: number): number {
  return source.lastIndexOf('\n', offset - 1) + 1;
}

/** A scalar in the style of its siblings (quoted if they are quoted or if plain would change its type). */
function newScalarSource(value: string, siblingType: string | undefined): string {
  if (siblingType === 'QUOTE_SINGLE' && !value.includes("'")) return `'${value}'`;
  if (siblingType === 'QUOTE_DOUBLE' || !plainReadsBackAsString(value)) return JSON.stringify(value);
  return value;
}

/**
 * Insert `key: value` into a map after its last pair: a new line at the siblings' indentation for a
 * block map, `, key: value` for a flow map.
 */
export function insertPairEdit(parsed: ParsedYaml, map: YAMLMap, key: string, value: string, what: string): TextEdit {
  const last = map.items[map.items.length - 1];
  const lastKey = last?.key as YamlNode | undefined;
  const lastValue = last?.value as YamlNode | undefined;
  if (!last || !lastKey?.range || !lastValue?.range) {
    throw new DeliveryInputError(
      `${parsed.file}: ${what} is an empty map; can not add '${key}' beside nothing`,
      `add ${key}: by hand once`,
    );
  }
  const siblingType = isScalar(lastValue) ? (lastValue.type as string | undefined) : undefined;
  const scalar = newScalarSource(value, siblingType);
  if (map.flow) {
    return { start: lastValue.range[1], end: lastValue.range[1], text: `, ${key}: ${scalar}` };
  }
  if (!isScalar(lastValue)) {
    throw new DeliveryInputError(
      `${parsed.file}:${lineOf(parsed, lastValue.range[0])}: ${what}: its last entry is not a scalar, so '${key}' can not be appended safely`,
      `add ${key}: to ${what} by hand once; later bumps edit it in place`,
    );
  }
  const { source } = parsed;
  const keyStart = lastKey.range[0];
  // Block-map keys share one column, whatever precedes the first one on its line (`-   name:`).
  const col = keyStart - lineStartOf(source, keyStart);
  const eol = source.indexOf('\n', lastValue.range[1]);
  const at = eol === -1 ? source.length : eol;
  const newline = source.slice(Math.max(0, at - 1), at) === '\r' ? '\r\n' : '\n';
  const insertAt = newline === '\r\n' ? at - 1 : at;
  return { start: insertAt, end: insertAt, text: `${newline}${' '.repeat(col)}${key}: ${scalar}` };
}

function setIn(target: unknown, path: (string | number)[], value: string): void {
  let cursor = target as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) cursor = cursor[step] as Record<string | number, unknown>;
  cursor[path[path.length - 1]] = value;
}

/**
 * Apply non-overlapping splices, then prove the result: it must parse, and its data must equal the
 * original data with exactly the expected changes applied.
 */
export function applyTextEdits(parsed: ParsedYaml, edits: TextEdit[], expected: ExpectedChange[]): string {
  // Right to left so earlier offsets stay valid; inserts at one offset keep their given order.
  const sorted = edits.map((e, index) => ({ ...e, index })).sort((a, b) => b.start - a.start || b.index - a.index);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].end > sorted[i - 1].start) throw new Error(`overlapping edits in ${parsed.file}`);
  }
  let out = parsed.source;
  for (const e of sorted) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  const before = parsed.docs.map((d) => d.toJS());
  for (const change of expected) setIn(before[change.doc], change.path, change.value);
  const afterDocs = parseAllDocuments(out);
  const list = Array.isArray(afterDocs) ? afterDocs : [afterDocs];
  const after = list.map((d) => {
    if (d.errors.length > 0) throw new Error(`edit of ${parsed.file} produced invalid YAML: ${d.errors[0].message}`);
    return d.toJS();
  });
  if (!isDeepStrictEqual(before, after)) {
    throw new Error(`edit of ${parsed.file} changed more than the intended values; refusing to write it`);
  }
  return out;
}

export { isMap, isSeq, isScalar };
