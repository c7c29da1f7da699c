import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors as joseErrors, jwtVerify } from 'jose';
import { HttpError } from '@slipway/service-kit';

export interface WriteAuthOptions {
  /** API_KEY: accepted in the x-api-key header. */
  apiKey?: string;
  /** JWT_SECRET: HS256 key for `Authorization: Bearer <jwt>`. */
  jwtSecret?: string;
}

export type Principal = { method: 'api-key' } | { method: 'jwt'; subject?: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Who made a write request; set by the write-auth hook. */
    principal?: Principal;
  }
}

/** Compares digests so neither the content nor the length of the key leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function unauthorized(reply: FastifyReply, message: string): HttpError {
  reply.header('www-authenticate', 'Bearer');
  return new HttpError(401, message);
}

function jwtFailure(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the bearer token has expired; request a new one';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'the bearer token must be signed with HS256';
  return 'the bearer token is not a valid HS256 JWT for this catalog';
}

/**
 * onRequest hook for product writes: a matching `x-api-key` or a Bearer JWT signed (HS256) with
 * JWT_SECRET, whose exp/nbf, when present, are honoured. Anything else is 401.
 */
export function createWriteAuth(options: WriteAuthOptions) {
  const jwtKey = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;

  return async function requireWriteAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!options.apiKey && !jwtKey) {
      throw unauthorized(
        reply,
        'product writes are disabled: the catalog has neither API_KEY nor JWT_SECRET configured',
      );
    }
    const apiKeyHeader = request.headers['x-api-key'];
    if (apiKeyHeader !== undefined) {
      const given = Array.isArray(apiKeyHeader) ? apiKeyHeader[0] : apiKeyHeader;
      if (options.apiKey && sameSecret(given, options.apiKey)) {
        request.principal = { method: 'api-key' };
        return;
      }
      throw unauthorized(reply, 'the x-api-key header does not match the catalog API key');
    }
    const authorization = request.headers.authorization;
    const bearer = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (bearer && jwtKey) {
      try {
        const { payload } = await jwtVerify(bearer, jwtKey, {
          algorithms: ['HS256'],
        });
        request.principal = { method: 'jwt', subject: payload.sub };
        return;
      } catch (error) {
        throw unauthorized(reply, jwtFailure(error));
      }
    }
    if (bearer)
      throw unauthorized(
        reply,
        'bearer tokens are not accepted: the catalog has no JWT_SECRET configured; use x-api-key',
      );
    throw unauthorized(
      reply,
      'authentication required: send the x-api-key header or Authorization: Bearer <HS256 JWT>',
    );
  };
}
