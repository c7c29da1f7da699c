import { setTimeout as sleep } from 'node:timers/promises';
import { DownstreamError, DownstreamUnavailableError } from './errors.js';
import { REQUEST_ID_HEADER, currentRequestId } from './request-context.js';

export interface HttpClientOptions {
  /** Per attempt, not per call. Default 5000. */
  timeoutMs?: number;
  /** Extra attempts after the first one for retryable failures. Default 2 (3 attempts in all). */
  retries?: number;
  /** First backoff delay; doubles per retry, capped by maxRetryDelayMs. Default 100. */
  retryDelayMs?: number;
  /** Upper bound for one backoff delay. Default 2000. */
  maxRetryDelayMs?: number;
  /** Also retry POST/PATCH. Only for endpoints that are idempotent by design (e.g. Idempotency-Key). */
  retryNonIdempotent?: boolean;
  /** Sent with every request (e.g. an API key). Per-request headers win. */
  headers?: Record<string, string>;
}

export type QueryValue = string | number | boolean | undefined | null;

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  query?: Record<string, QueryValue>;
  timeoutMs?: number;
  retries?: number;
  retryNonIdempotent?: boolean;
  /** Aborts the whole call, including backoff waits. */
  signal?: AbortSignal;
}

export interface HttpResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface HttpClient {
  readonly baseUrl: string;
  /** Resolves for 2xx; throws DownstreamError (other statuses) or DownstreamUnavailableError. */
  request<T = unknown>(method: string, path: string, opts?: RequestOptions): Promise<HttpResponse<T>>;
  get<T = unknown>(path: string, opts?: Omit<RequestOptions, 'body'>): Promise<T>;
  post<T = unknown>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>): Promise<T>;
  put<T = unknown>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>): Promise<T>;
  patch<T = unknown>(path: string, body?: unknown, opts?: Omit<RequestOptions, 'body'>): Promise<T>;
  delete<T = unknown>(path: string, opts?: Omit<RequestOptions, 'body'>): Promise<T>;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
/** Statuses that mean "the service behind the gateway is not there right now". A 500 is a real answer. */
const RETRYABLE_STATUSES = new Set([502, 503, 504]);
const MAX_RETRIES = 10;

function validateInt(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`createHttpClient: ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

function buildUrl(baseUrl: string, path: string, query?: Record<string, QueryValue>): string {
  // String join rather than new URL(path, base): a base with a path prefix (/api/catalog) must be kept.
  let url = `${baseUrl}/${path.replace(/^\/+/, '')}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null) params.append(key, String(value));
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  return url;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

function backoffDelay(retry: number, baseMs: number, maxMs: number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** (retry - 1));
  // Jitter between 50% and 100% so clients that failed together do not retry in lockstep.
  return Math.round(exponential / 2 + Math.random() * (exponential / 2));
}

function describeFailure(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `timed out after ${timeoutMs} ms`;
  const err = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = err?.cause?.code ?? err?.cause?.message;
  return cause ? `${err.message ?? 'request failed'} (${cause})` : (err?.message ?? String(error));
}

/**
 * JSON over fetch for service-to-service calls: per-attempt timeout, bounded retries with backoff
 * (network errors/timeouts and 502/503/504 only, idempotent methods only unless allowed), the
 * current request's x-request-id forwarded, typed errors.
 */
export function createHttpClient(baseUrl: string, opts: HttpClientOptions = {}): HttpClient {
  if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) {
    throw new TypeError(
      `createHttpClient: base URL ${JSON.stringify(baseUrl)} is not an absolute http(s) URL; pass e.g. http://127.0.0.1:3101`,
    );
  }
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = validateInt('timeoutMs', opts.timeoutMs, 5_000, 1);
  // Bounded: a misconfigured client must not turn one call into an unbounded retry storm.
  const retries = Math.min(validateInt('retries', opts.retries, 2, 0), MAX_RETRIES);
  const retryDelayMs = validateInt('retryDelayMs', opts.retryDelayMs, 100, 0);
  const maxRetryDelayMs = validateInt('maxRetryDelayMs', opts.maxRetryDelayMs, 2_000, 0);

  async function request<T>(method: string, path: string, ro: RequestOptions = {}): Promise<HttpResponse<T>> {
    const verb = method.toUpperCase();
    const url = buildUrl(base, path, ro.query);
    const attemptTimeout = ro.timeoutMs ?? timeoutMs;
    const retryAllowed = IDEMPOTENT_METHODS.has(verb) || (ro.retryNonIdempotent ?? opts.retryNonIdempotent ?? false);
    const callRetries =
      ro.retries === undefined ? retries : Math.min(validateInt('retries', ro.retries, 0, 0), MAX_RETRIES);
    const maxAttempts = 1 + (retryAllowed ? callRetries : 0);

    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    const requestId = currentRequestId();
    if (requestId) headers[REQUEST_ID_HEADER] = requestId;
    let payload: string | undefined;
    if (ro.body !== undefined) {
      payload = JSON.stringify(ro.body);
      headers['content-type'] = 'application/json';
    }
    Object.assign(headers, ro.headers);

    let lastReason = '';
    let lastError: unknown;
    let lastStatus: number | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (attempt > 1) {
        await sleep(backoffDelay(attempt - 1, retryDelayMs, maxRetryDelayMs), undefined, { signal: ro.signal });
      }
      const timeoutSignal = AbortSignal.timeout(attemptTimeout);
      const signal = ro.signal ? AbortSignal.any([ro.signal, timeoutSignal]) : timeoutSignal;
      let response: Response;
      try {
        response = await fetch(url, { method: verb, headers, body: payload, signal });
      } catch (error) {
        // The caller gave up: not a downstream failure, do not retry.
        if (ro.signal?.aborted) throw ro.signal.reason ?? error;
        lastError = error;
        lastStatus = undefined;
        lastReason = describeFailure(error, timeoutSignal.aborted, attemptTimeout);
        continue;
      }
      let body: unknown;
      try {
        body = await readBody(response);
      } catch (error) {
        if (ro.signal?.aborted) throw ro.signal.reason ?? error;
        lastError = error;
        lastStatus = undefined;
        lastReason = `reading the response ${describeFailure(error, timeoutSignal.aborted, attemptTimeout)}`;
        continue;
      }
      if (response.ok) return { status: response.status, headers: response.headers, body: body as T };
      if (RETRYABLE_STATUSES.has(response.status)) {
        lastError = new DownstreamError(verb, url, response.status, body);
        lastStatus = response.status;
        lastReason = `answered ${response.status}`;
        continue;
      }
      throw new DownstreamError(verb, url, response.status, body);
    }
    throw new DownstreamUnavailableError(verb, url, maxAttempts, lastReason, { cause: lastError, status: lastStatus });
  }

  return {
    baseUrl: base,
    request,
    get: async <T>(path: string, o?: RequestOptions) => (await request<T>('GET', path, o)).body,
    post: async <T>(path: string, body?: unknown, o?: RequestOptions) =>
      (await request<T>('POST', path, { ...o, body })).body,
    put: async <T>(path: string, body?: unknown, o?: RequestOptions) =>
      (await request<T>('PUT', path, { ...o, body })).body,
    patch: async <T>(path: string, body?: unknown, o?: RequestOptions) =>
      (await request<T>('PATCH', path, { ...o, body })).body,
    delete: async <T>(path: string, o?: RequestOptions) => (await request<T>('DELETE', path, o)).body,
  };
}
