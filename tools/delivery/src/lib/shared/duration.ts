/**
 * Durations written by people (`--soak=30m`, `"soak": "1h30m"`): one or more `<n><unit>` parts with
 * unit ms, s, m, h or d, or a plain `0`. The one parser for such options.
 */
export class DurationError extends Error {}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:ms|s|m|h|d))+$/;
const PART = /(\d+)(ms|s|m|h|d)/g;

export function parseDuration(text: string, option = 'duration'): number {
  const value = String(text).trim();
  if (value === '0') return 0;
  if (!WHOLE.test(value))
    throw new DurationError(
      `${option} '${text}' is not a duration: write <number><unit> parts with unit ms, s, m, h or d, e.g. 30m, 1h30m, 2d, or 0`,
    );
  let total = 0;
  for (const [, amount, unit] of value.matchAll(PART)) total += Number(amount) * (UNIT_MS[unit as string] as number);
  if (!Number.isSafeInteger(total)) throw new DurationError(`${option} '${text}' is too long`);
  return total;
}

/** 5400000 → `1h30m`; 0 → `0s`. */
export function formatDurationShort(ms: number): string {
  if (ms <= 0) return '0s';
  const parts: string[] = [];
  let rest = Math.ceil(ms / 1000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
