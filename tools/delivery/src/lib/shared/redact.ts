/**
 * Secret redaction for anything that reaches a console, an error message or a report.
 * Secrets are registered by value (tokens from env) and URLs lose their userinfo, so a token that
 * leaks into a child process's stderr (git echoes remote URLs) is never printed.
 */
const MIN_SECRET_LENGTH = 4;

export const REDACTED = '***';

/** Replace every occurrence of each secret and every URL userinfo (`https://user:pass@host`). */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  const ordered = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    // Longest first so a secret that contains another one is replaced whole.
    .sort((a, b) => b.length - a.length);
  for (const secret of ordered) {
    out = out.split(secret).join(REDACTED);
  }
  return redactUrlCredentials(out);
}

/** `scheme://user:pass@host` → `scheme://***@host`; `scheme://user@host` is kept (no secret). */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, `$1${REDACTED}@`);
}
