import { appendFileSync } from 'node:fs';
import { redactUrlCredentials } from '../shared/redact';
import type { ReleaseRecord } from './history';
import { renderConsoleSummary, renderMarkdownSummary, webhookPayload } from './summary';

/**
 * Where a release's summary goes: the console, $GITHUB_STEP_SUMMARY (when set), and an optional
 * Slack-compatible webhook whose URL comes from an environment variable. The URL is a secret (it
 * is the credential): it is never printed, not even in an error.
 */
export interface NotifyOptions {
  log: (line: string) => void;
  env: NodeJS.ProcessEnv;
  webhookUrlEnv: string;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
}

export async function postWebhook(
  url: string,
  payload: unknown,
  opts: { fetchImpl?: typeof fetch; timeoutMs?: number } = {},
): Promise<{ ok: boolean; detail: string }> {
  const fetchImpl = opts.fetchImpl ?? fetch;
  try {
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    return { ok: response.ok, detail: `HTTP ${response.status}` };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    return { ok: false, detail: cause };
  }
}

export function createNotifier(opts: NotifyOptions): (records: ReleaseRecord[]) => Promise<void> {
  return async (records) => {
    opts.log(renderConsoleSummary(records));
    const summaryFile = opts.env['GITHUB_STEP_SUMMARY'];
    if (summaryFile) {
      try {
        appendFileSync(summaryFile, renderMarkdownSummary(records));
      } catch (error) {
        opts.log(`warning: could not append to $GITHUB_STEP_SUMMARY: ${(error as Error).message}`);
      }
    }
    const url = opts.env[opts.webhookUrlEnv];
    if (!url) return;
    let valid = false;
    try {
      valid = ['http:', 'https:'].includes(new URL(url).protocol);
    } catch {
      valid = false;
    }
    if (!valid) {
      opts.log(`warning: $${opts.webhookUrlEnv} is not an http(s) URL; webhook not called (value not shown)`);
      return;
    }
    const result = await postWebhook(url, webhookPayload(records), {
      fetchImpl: opts.fetchImpl,
      timeoutMs: opts.timeoutMs,
    });
    // Only the variable's name is shown: the URL carries the credential.
    opts.log(
      result.ok
        ? `webhook ($${opts.webhookUrlEnv}) notified`
        : `warning: webhook ($${opts.webhookUrlEnv}) failed: ${redactUrlCredentials(result.detail)}`,
    );
  };
}
