import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { realClock } from './clock';
import type { Clock, HttpAdapter, HttpRequest, HttpResult } from './types';

/** Bodies beyond this are cut: a smoke check asserts on small JSON, not on downloads. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * node:http client for smoke requests. Every request opens its own connection (no keep-alive
 * agent): behind a load balancer each measurement can reach a different replica, which is the point
 * of counting measurements, and a half-dead pooled socket cannot make a healthy service look down.
 * The timeout covers the whole exchange (connect, headers and body), so a server that accepts and
 * never answers is an error after exactly that long.
 */
export function createHttpAdapter(clock: Clock = realClock): HttpAdapter {
  return {
    request: (req) => send(req, clock),
  };
}

function send(req: HttpRequest, clock: Clock): Promise<HttpResult> {
  return new Promise((resolve) => {
    const started = clock.now();
    let settled = false;
    const finish = (result: HttpResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const url = new URL(req.url);
    const requester = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {
      'user-agent': 'slipway-smoke',
      connection: 'close',
      ...req.headers,
    };
    if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
    const outgoing = requester(url, { method: req.method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(chunk);
        size += chunk.length;
      });
      response.on('end', () => {
        const responseHeaders: Record<string, string> = {};
        for (const [name, value] of Object.entries(response.headers)) {
          if (value !== undefined)
            responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
        }
        finish({
          kind: 'response',
          status: response.statusCode ?? 0,
          headers: responseHeaders,
          body: Buffer.concat(chunks).toString('utf8'),
          durationMs: clock.now() - started,
        });
      });
      response.on('error', (error: NodeJS.ErrnoException) => finish(errorResult(error, clock.now() - started)));
    });
    const timer = setTimeout(() => {
      finish({
        kind: 'error',
        code: 'TIMEOUT',
        message: `no complete answer within ${req.timeoutMs} ms`,
        durationMs: clock.now() - started,
      });
      outgoing.destroy();
    }, req.timeoutMs);
    outgoing.on('error', (error: NodeJS.ErrnoException) => finish(errorResult(error, clock.now() - started)));
    if (req.body !== undefined) outgoing.end(req.body);
    else outgoing.end();
  });
}

function errorResult(error: NodeJS.ErrnoException, durationMs: number): HttpResult {
  const code = error.code ?? 'ERROR';
  const reasons: Record<string, string> = {
    ECONNREFUSED: 'connection refused (nothing listening)',
    ECONNRESET: 'connection reset by the server',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host lookup failed',
    EHOSTUNREACH: 'host unreachable',
    ETIMEDOUT: 'connection timed out',
    EPIPE: 'connection closed while sending',
    HPE_INVALID_CONSTANT: 'the answer is not HTTP',
  };
  return {
    kind: 'error',
    code,
    message: reasons[code] ? `${reasons[code]} (${error.message})` : error.message,
    durationMs,
  };
}
