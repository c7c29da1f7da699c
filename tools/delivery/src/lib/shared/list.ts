/**
 * A list option as Nx passes it: repeated flags (`--projects=a --projects=b`), a comma-separated
 * value (`--projects=a,b`), or both. `a,b` or `['a', 'b,c']` → `['a', 'b', 'c']`.
 */
export function splitList(value: readonly string[] | string | undefined): string[] {
  const raw = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return raw
    .flatMap((v) => String(v).split(','))
    .map((v) => v.trim())
    .filter(Boolean);
}
