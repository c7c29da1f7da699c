import type { FetchFn, FetchResponse } from '../api/client';

export interface RecordedRequest {
  method: string;
  /** Path and query as the client asked for them, e.g. /api/catalog/products?limit=20&offset=0 */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal | null | undefined;
}

export interface FakeReply {
  status: number;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body` (for non-JSON answers). */
  rawBody?: string;
  headers?: Record<string, string>;
}

export type FakeHandler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): FakeReply {
  return {
    status,
    body,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  };
}

/** A reply that never comes unless the request is aborted, for asserting loading states. */
export function pending(request: RecordedRequest): Promise<FakeReply> {
  return new Promise((_, reject) => {
    // Like fetch: an already-aborted signal rejects at once, a later abort rejects when it happens.
    const abort = () => reject(new DOMException('aborted', 'AbortError'));
    if (request.signal?.aborted) abort();
    request.signal?.addEventListener('abort', abort);
  });
}

/** A fake fetch that records every request and answers through `handler`; unknown routes fail loudly. */
export function createFakeFetch(handler: FakeHandler): {
  fetch: FetchFn;
  calls: RecordedRequest[];
} {
  const calls: RecordedRequest[] = [];
  const fetch: FetchFn = async (url, init) => {
    const parsed = new URL(url, 'http://web.test');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((init.headers ?? {}) as Record<string, string>)) {
      headers[name.toLowerCase()] = value;
    }
    const request: RecordedRequest = {
      method: init.method ?? 'GET',
      url,
      path: parsed.pathname,
      query: parsed.searchParams,
      headers,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      signal: init.signal,
    };
    calls.push(request);
    const reply = await handler(request);
    const replyHeaders = new Map(Object.entries(reply.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const text = reply.rawBody ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    const response: FetchResponse = {
      ok: reply.status >= 200 && reply.status < 300,
      status: reply.status,
      headers: { get: (name) => replyHeaders.get(name.toLowerCase()) ?? null },
      text: async () => text,
    };
    return response;
  };
  return { fetch, calls };
}

export function unexpected(request: RecordedRequest): never {
  throw new Error(`fake fetch: no route for ${request.method} ${request.url}`);
}
