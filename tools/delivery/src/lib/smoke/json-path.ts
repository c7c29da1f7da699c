/**
 * The JSON path subset smoke assertions use (the part of JSONPath that Argo Rollouts' `jsonPath`
 * web metrics and most health payloads need):
 *   $              the document
 *   .name          a member (letters, digits, `_`, `$`, `-`; not starting with a digit or `-`)
 *   ['name']       a member with any characters ("..." also accepted; \\ \' \" escapes)
 *   [3] / [-1]     an array element (negative counts from the end)
 *   [*] / .*       every element or member value
 * Filters and recursive descent are deliberately not supported: a smoke assertion that needs them is
 * better written as two plain assertions, and an unsupported form fails at config load, not mid-run.
 */

export type JsonPathSegment =
  | { kind: 'member'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' };

export interface JsonPath {
  source: string;
  segments: JsonPathSegment[];
  /** True when the path can select more than one value (it contains a wildcard). */
  multiple: boolean;
}

export class JsonPathSyntaxError extends Error {
  constructor(
    readonly path: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`"${path}" is not a valid JSON path: ${reason} at position ${position}`);
    this.name = 'JsonPathSyntaxError';
  }
}

const IDENTIFIER_START = /[A-Za-z_$]/;
const IDENTIFIER_PART = /[A-Za-z0-9_$-]/;

export function parseJsonPath(source: string): JsonPath {
  if (typeof source !== 'string' || source.length === 0) {
    throw new JsonPathSyntaxError(String(source), 0, 'the path is empty (start with "$")');
  }
  if (source[0] !== '$') {
    throw new JsonPathSyntaxError(source, 0, 'a path must start with "$"');
  }
  const segments: JsonPathSegment[] = [];
  let position = 1;
  const fail = (reason: string, at = position): never => {
    throw new JsonPathSyntaxError(source, at, reason);
  };

  while (position < source.length) {
    const char = source[position];
    if (char === '.') {
      position += 1;
      if (source[position] === '.') fail('recursive descent ("..") is not supported');
      if (source[position] === '*') {
        segments.push({ kind: 'wildcard' });
        position += 1;
        continue;
      }
      if (position >= source.length || !IDENTIFIER_START.test(source[position])) {
        fail('expected a member name after "."');
      }
      const start = position;
      while (position < source.length && IDENTIFIER_PART.test(source[position])) position += 1;
      segments.push({ kind: 'member', name: source.slice(start, position) });
      continue;
    }
    if (char === '[') {
      const open = position;
      position += 1;
      const inner = source[position];
      if (inner === '*') {
        position += 1;
        if (source[position] !== ']') fail('expected "]" after "[*"');
        position += 1;
        segments.push({ kind: 'wildcard' });
        continue;
      }
      if (inner === "'" || inner === '"') {
        const quote = inner;
        position += 1;
        let name = '';
        let closed = false;
        while (position < source.length) {
          const c = source[position];
          if (c === '\\') {
            const escaped = source[position + 1];
            if (escaped !== quote && escaped !== '\\') fail(`unsupported escape "\\${escaped ?? ''}"`);
            name += escaped;
            position += 2;
            continue;
          }
          if (c === quote) {
            closed = true;
            position += 1;
            break;
          }
          name += c;
          position += 1;
        }
        if (!closed) fail(`unterminated quoted name (missing ${quote})`, open);
        if (source[position] !== ']') fail('expected "]" after the quoted name');
        position += 1;
        segments.push({ kind: 'member', name });
        continue;
      }
      const match = /^-?\d+/.exec(source.slice(position));
      if (!match) {
        if (position >= source.length) fail('unclosed "["', open);
        if (source[position] === '?') fail('filter expressions ("[?(...)]") are not supported');
        fail('expected an index, "*" or a quoted name inside "[...]"');
      }
      const digits = (match as RegExpExecArray)[0];
      position += digits.length;
      if (position >= source.length) fail('unclosed "["', open);
      if (source[position] !== ']') fail('expected "]" after the index');
      position += 1;
      segments.push({ kind: 'index', index: Number(digits) });
      continue;
    }
    fail(`unexpected character "${char}" (use ".name", "['name']", "[0]" or "[*]")`);
  }
  return {
    source,
    segments,
    multiple: segments.some((s) => s.kind === 'wildcard'),
  };
}

/** Every value the path selects. A missing member or index selects nothing (not `undefined`). */
export function selectJsonPath(path: JsonPath, document: unknown): unknown[] {
  let current: unknown[] = [document];
  for (const segment of path.segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (segment.kind === 'member') {
        if (isPlainObject(value) && Object.prototype.hasOwnProperty.call(value, segment.name)) {
          next.push(value[segment.name]);
        }
      } else if (segment.kind === 'index') {
        if (Array.isArray(value)) {
          const index = segment.index < 0 ? value.length + segment.index : segment.index;
          if (index >= 0 && index < value.length) next.push(value[index]);
        }
      } else if (Array.isArray(value)) {
        next.push(...value);
      } else if (isPlainObject(value)) {
        next.push(...Object.values(value));
      }
    }
    current = next;
  }
  return current;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
