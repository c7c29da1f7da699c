export function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** "840 ms", "2.4 s". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Milliseconds to one decimal: the report stays readable and sub-millisecond noise is dropped. */
export function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
