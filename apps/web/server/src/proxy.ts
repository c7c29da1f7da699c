import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface ProxyRoute {
  /** Upstream name used in errors and logs, e.g. "catalog". */
  name: string;
  /** Public path prefix, e.g. /api/catalog; stripped before forwarding. */
  prefix: string;
  /** Upstream base URL; a path in it (http://host/base) is kept in front of the forwarded path. */
  upstreamUrl: string;
  /** Time allowed for the upstream response headers; the body then streams without a total bound. */
  timeoutMs: number;
}

// RFC 9110 §7.6.1: connection-specific headers describe one hop and must not be forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = String(headers['connection'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.includes(name)) continue;
    result[name] = value;
  }
  return result;
}

function appendHeader(existing: string | string[] | undefined, value: string): string {
  const previous = Array.isArray(existing) ? existing.join(', ') : existing;
  return previous ? `${previous}, ${value}` : value;
}

function gatewayError(reply: FastifyReply, statusCode: 502 | 504, message: string): FastifyReply {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send({
      statusCode,
      error: statusCode === 502 ? 'Bad Gateway' : 'Gateway Timeout',
      message,
    });
}

/**
 * Streams `<prefix>/*` to the upstream with the prefix stripped: bodies are piped both ways, never
 * buffered; x-request-id is forwarded so one id follows the request through web and the service.
 */
export async function registerProxy(app: FastifyInstance, route: ProxyRoute): Promise<void> {
  const upstream = new URL(route.upstreamUrl);
  const transport = upstream.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  const basePath = upstream.pathname.replace(/\/+$/, '');
  app.addHook('onClose', async () => agent.destroy());

  const forward = (request: FastifyRequest, reply: FastifyReply) =>
    new Promise<FastifyReply>((resolve) => {
      const rest = request.url.slice(route.prefix.length);
      const path = basePath + (rest.startsWith('/') ? rest : `/${rest}`);
      const headers = withoutHopByHop(request.headers);
      headers['host'] = upstream.host;
      headers['x-request-id'] = request.id;
      headers['x-forwarded-for'] = appendHeader(request.headers['x-forwarded-for'], request.socket.remoteAddress ?? '');
      // protocol and host honour TRUST_PROXY: forwarded values from an untrusted client are replaced.
      headers['x-forwarded-proto'] = request.protocol;
      headers['x-forwarded-host'] = request.host;
      headers['x-forwarded-prefix'] = route.prefix;

      let timedOut = false;
      let settled = false;
      const upstreamRequest = transport.request({
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: request.method,
        path,
        headers,
        agent,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        upstreamRequest.destroy(new Error(`no response within ${route.timeoutMs} ms`));
      }, route.timeoutMs);

      upstreamRequest.on('response', (upstreamResponse: IncomingMessage) => {
        clearTimeout(timer);
        settled = true;
        reply.code(upstreamResponse.statusCode ?? 502);
        for (const [name, value] of Object.entries(withoutHopByHop(upstreamResponse.headers))) {
          if (value !== undefined) reply.header(name, value);
        }
        resolve(reply.send(upstreamResponse));
      });
      upstreamRequest.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        if (reply.raw.destroyed) return resolve(reply);
        // The upstream address stays in the log; clients learn only which service failed and how.
        request.log.warn({ upstream: route.name, err: error }, 'proxied request failed');
        resolve(
          timedOut
            ? gatewayError(reply, 504, `${route.name} did not answer within ${route.timeoutMs} ms`)
            : gatewayError(reply, 502, `${route.name} is unreachable (${error.code ?? 'connection failed'})`),
        );
      });
      // A client that goes away takes its upstream request with it.
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) upstreamRequest.destroy();
      });

      const body = request.body as Readable | undefined;
      if (body && typeof body.pipe === 'function') body.pipe(upstreamRequest);
      else upstreamRequest.end();
    });

  await app.register(async (scope) => {
    // Bodies stay streams: the upstream validates and limits them, the gateway only relays.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    scope.route({ method: methods, url: route.prefix, handler: forward });
    scope.route({
      method: methods,
      url: `${route.prefix}/*`,
      handler: forward,
    });
  });
}
