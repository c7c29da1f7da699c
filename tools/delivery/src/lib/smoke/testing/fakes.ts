import type { FakeClock } from '../clock';
import type {
  HttpAdapter,
  HttpRequest,
  HttpResult,
  K6Runner,
  K6RunRequest,
  K6RunResult,
  PlaywrightRunner,
  PlaywrightRunRequest,
  PlaywrightRunResult,
} from '../types';

/** Test doubles for the smoke adapters. Real-server tests live in the *.int-spec.ts suites. */

export type Responder = (request: HttpRequest, call: number, now: number) => HttpResult | Promise<HttpResult>;

/** An HTTP adapter answering from a function; each answer advances the fake clock by its duration. */
export class ScriptedHttp implements HttpAdapter {
  readonly requests: (HttpRequest & { atMs: number })[] = [];
  constructor(
    private readonly clock: FakeClock,
    private readonly responder: Responder,
  ) {}

  async request(request: HttpRequest): Promise<HttpResult> {
    const call = this.requests.length;
    this.requests.push({ ...request, atMs: this.clock.now() });
    const result = await this.responder(request, call, this.clock.now());
    this.clock.advance(result.durationMs);
    return result;
  }

  paths(): string[] {
    return this.requests.map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
}

export function json(status: number, body: unknown, durationMs = 5, headers: Record<string, string> = {}): HttpResult {
  return {
    kind: 'response',
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
    durationMs,
  };
}

export function text(status: number, body: string, durationMs = 5, headers: Record<string, string> = {}): HttpResult {
  return {
    kind: 'response',
    status,
    headers: { 'content-type': 'text/plain', ...headers },
    body,
    durationMs,
  };
}

export function refused(durationMs = 1): HttpResult {
  return {
    kind: 'error',
    code: 'ECONNREFUSED',
    message: 'connection refused (nothing listening)',
    durationMs,
  };
}

export function timedOut(durationMs: number): HttpResult {
  return {
    kind: 'error',
    code: 'TIMEOUT',
    message: `no complete answer within ${durationMs} ms`,
    durationMs,
  };
}

export class FakeK6 implements K6Runner {
  readonly calls: K6RunRequest[] = [];
  constructor(private readonly result: Partial<K6RunResult>) {}
  async run(request: K6RunRequest): Promise<K6RunResult> {
    this.calls.push(request);
    return {
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 1000,
      outputTail: '',
      ...this.result,
    };
  }
}

export class FakePlaywright implements PlaywrightRunner {
  readonly calls: PlaywrightRunRequest[] = [];
  constructor(private readonly result: Partial<PlaywrightRunResult>) {}
  async run(request: PlaywrightRunRequest): Promise<PlaywrightRunResult> {
    this.calls.push(request);
    return {
      exitCode: 0,
      signal: null,
      timedOut: false,
      durationMs: 2000,
      outputTail: '',
      ...this.result,
    };
  }
}
