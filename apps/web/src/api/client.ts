import type {
  ErrorBody,
  HealthResponse,
  Order,
  OrderCreateBody,
  ProductListResponse,
  ReadinessResponse,
  ValidationErrorDetail,
} from '@slipway/contracts';
import { errorMessage } from '../lib/error-message';

/** The parts of the Fetch API the client uses, so tests can hand in a fake without a DOM Response. */
export interface FetchResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export type FetchFn = (url: string, init: RequestInit) => Promise<FetchResponse>;

/** The three parts of the stack the status page reports on, and where the browser reaches them. */
export const SERVICES = [
  { name: 'web', basePath: '' },
  { name: 'catalog', basePath: '/api/catalog' },
  { name: 'orders', basePath: '/api/orders' },
] as const;
export type ServiceName = (typeof SERVICES)[number]['name'];

export interface ProductQuery {
  q: string;
  limit: number;
  offset: number;
}

export interface CreatedOrder {
  order: Order;
  /** True when the server answered with the stored response of an earlier request with the same key. */
  replayed: boolean;
}

export interface ApiClient {
  listProducts(query: ProductQuery, signal?: AbortSignal): Promise<ProductListResponse>;
  createOrder(body: OrderCreateBody, idempotencyKey: string, signal?: AbortSignal): Promise<CreatedOrder>;
  getHealth(service: ServiceName, signal?: AbortSignal): Promise<HealthResponse>;
  /** Resolves with the body for 200 and 503 alike: "not ready" is an answer, not a failure. */
  getReadiness(service: ServiceName, signal?: AbortSignal): Promise<ReadinessResponse>;
}

/**
 * A request that did not produce the expected answer. `status` is 0 when no HTTP response arrived
 * (network error, timeout), so callers can tell "the server said no" from "nobody answered".
 */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly details: ValidationErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The request may have reached the service even though no usable answer came back. */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.status === 502 || this.status === 504;
  }
}

/** Anything a client call threw, as an ApiError (unexpected throws count as "no answer"). */
export function toApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(errorMessage(error), 0);
}

export interface ApiClientOptions {
  fetch?: FetchFn;
  /** Prefix for every path; '' means same origin, which is how the SPA is served. */
  baseUrl?: string;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const fetchFn: FetchFn = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  const baseUrl = options.baseUrl ?? '';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function request<T>(
    method: string,
    path: string,
    opts: {
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
      acceptStatus?: number[];
    } = {},
  ): Promise<{ data: T; headers: FetchResponse['headers'] }> {
    const what = `${method} ${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...opts.headers,
    };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';

    // One controller per request: it fires on our timeout or when the caller's signal aborts.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const abortFromCaller = () => controller.abort();
    if (opts.signal?.aborted) controller.abort();
    opts.signal?.addEventListener('abort', abortFromCaller);

    let response: FetchResponse;
    let text: string;
    try {
      response = await fetchFn(baseUrl + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (error) {
      if (opts.signal?.aborted) throw error;
      const reason = timedOut ? `no answer within ${timeoutMs} ms` : errorMessage(error);
      throw new ApiError(`${what} failed: ${reason}`, 0);
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abortFromCaller);
    }

    const parsed = parseJson(text);
    if (response.ok || opts.acceptStatus?.includes(response.status)) {
      if (parsed === undefined) {
        const type = response.headers.get('content-type') ?? 'no content type';
        throw new ApiError(`${what} answered ${response.status} with ${type} instead of JSON`, response.status);
      }
      return { data: parsed as T, headers: response.headers };
    }
    throw errorFromResponse(what, response.status, parsed);
  }

  return {
    async listProducts(query, signal) {
      const params = new URLSearchParams({
        limit: String(query.limit),
        offset: String(query.offset),
      });
      if (query.q) params.set('q', query.q);
      const { data } = await request<ProductListResponse>('GET', `/api/catalog/products?${params}`, { signal });
      return data;
    },
    async createOrder(body, idempotencyKey, signal) {
      const { data, headers } = await request<Order>('POST', '/api/orders/orders', {
        body,
        headers: { 'idempotency-key': idempotencyKey },
        signal,
      });
      return {
        order: data,
        replayed: headers.get('idempotent-replayed') === 'true',
      };
    },
    async getHealth(service, signal) {
      const { data } = await request<HealthResponse>('GET', `${basePathOf(service)}/health`, {
        signal,
        // A degraded service may answer /health with 503 and still describe itself.
        acceptStatus: [503],
      });
      return data;
    },
    async getReadiness(service, signal) {
      const { data } = await request<ReadinessResponse>('GET', `${basePathOf(service)}/health/readiness`, {
        signal,
        acceptStatus: [503],
      });
      return data;
    },
  };
}

function basePathOf(service: ServiceName): string {
  const found = SERVICES.find((s) => s.name === service);
  if (!found)
    throw new Error(`Unknown service "${service}"; expected one of ${SERVICES.map((s) => s.name).join(', ')}`);
  return found.basePath;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === 'object' && value !== null && typeof (value as ErrorBody).message === 'string';
}

function errorFromResponse(what: string, status: number, body: unknown): ApiError {
  if (isErrorBody(body)) {
    const details = Array.isArray(body.details) ? body.details : [];
    return new ApiError(body.message, status, details);
  }
  return new ApiError(`${what} answered ${status}`, status);
}
