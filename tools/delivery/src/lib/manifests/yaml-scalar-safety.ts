import { parseDocument } from 'yaml';

/**
 * The one rule for writing an image tag, digest or name as a YAML scalar: write it plain only when
 * every reader resolves the plain scalar to that same string. Helm and kustomize read YAML through
 * sigs.k8s.io/yaml (go-yaml, YAML 1.1 resolution: `yes`/`on`/`y` are booleans, `012` octal,
 * `0b101` binary, `1_000` and `1:20` integers, `2001-12-14` a timestamp), other tools use YAML 1.2
 * (`0o17`, `1e3`). The regexes below are the YAML 1.1 type repository's (yaml.org/type, as written
 * there: its float accepts `1.2.3`), so a value any 1.1 or 1.2 reader could turn into something
 * else is quoted; the `yaml` package then confirms both versions read the plain form back.
 */
const YAML11_IMPLICIT: readonly RegExp[] = [
  // bool
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
  // null
  /^(?:~|null|Null|NULL)$/,
  // int: binary, octal, decimal, hex, sexagesimal
  /^[-+]?0b[0-1_]+$/,
  /^[-+]?0[0-7_]+$/,
  /^[-+]?(?:0|[1-9][0-9_]*)$/,
  /^[-+]?0x[0-9a-fA-F_]+$/,
  /^[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+$/,
  // float: base 10 (the spec's [0-9.]*), sexagesimal, infinity, not-a-number
  /^[-+]?(?:[0-9][0-9_]*)?\.[0-9.]*(?:[eE][-+][0-9]+)?$/,
  /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
  // timestamp
  /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/,
  /^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$/,
  // merge key and the value key
  /^<<$/,
  /^=$/,
];

/** Numbers in YAML 1.2's core and JSON schemas and the looser forms other 1.2 readers take. */
const YAML12_IMPLICIT: readonly RegExp[] = [
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/,
  /^0o[0-7]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^[-+]?\.(?:inf|Inf|INF)$/,
  /^\.(?:nan|NaN|NAN)$/,
];

function readsBackAs(value: string, version: '1.1' | '1.2'): boolean {
  const doc = parseDocument(`k: ${value}\n`, { version, uniqueKeys: false });
  return doc.errors.length === 0 && doc.warnings.length === 0 && doc.get('k') === value;
}

/** Whether `value` written as a plain scalar is read back as exactly this string by YAML 1.1 and 1.2 readers. */
export function plainScalarKeepsString(value: string): boolean {
  if (value === '' || value.trim() !== value || /[\n\r\t]/.test(value)) return false;
  if (YAML11_IMPLICIT.some((re) => re.test(value)) || YAML12_IMPLICIT.some((re) => re.test(value))) return false;
  return readsBackAs(value, '1.2') && readsBackAs(value, '1.1');
}

export type QuoteStyle = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE';

/**
 * The source text of `value` as a one-line scalar: in `preferred` style when that is safe (a file
 * that single-quotes its tags keeps single quotes), plain only when `plainScalarKeepsString`,
 * otherwise double-quoted.
 */
export function scalarSource(value: string, preferred: QuoteStyle = 'PLAIN'): string {
  if (preferred === 'QUOTE_SINGLE' && !/[\n\r]/.test(value)) return `'${value.replace(/'/g, "''")}'`;
  if (preferred === 'QUOTE_DOUBLE' || !plainScalarKeepsString(value)) return JSON.stringify(value);
  return value;
}
