/**
 * The one redactor: known secret values (tokens, passwords read from the environment) and the
 * userinfo of URLs (git echoes remote URLs in its errors, and a URL given on the command line may
 * hold `user:token@`). Everything printed or captured from a child process passes through here.
 */
export const REDACTED = '***';

/** Replace every occurrence of each secret value with `***`. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would blank out ordinary words; such values are not secrets worth hiding.
    if (secret && secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}

export function redactCredentials(text: string, secrets: readonly (string | undefined)[] = []): string {
  return redactUrlCredentials(
    redact(
      text,
      secrets.filter((s): s is string => typeof s === 'string'),
    ),
  );
}

/** `scheme://user:pass@host` → `scheme://***@host`; `scheme://user@host` is kept (no secret in it). */
export function redactUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/@\s:]*):([^/@\s]*)@/gi, `$1${REDACTED}@`);
}
