import { redact } from './process';

/**
 * Redaction for text that may carry credentials in URLs as well as known secret values: git
 * echoes remote URLs in its errors, and a URL given on the command line may hold `user:token@`.
 * Secret values are removed by process.ts's `redact`; this adds the URL userinfo.
 */
export const REDACTED = '***';

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
