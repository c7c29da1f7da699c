import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export interface StaticFile {
  absolutePath: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  cacheControl: string;
}

/** URL path (e.g. /assets/index-Bx1.js) → file. Only what was on disk at start is ever served. */
export type StaticManifest = Map<string, StaticFile>;

/** Vite writes content-hashed names under assets/: they can be cached forever. */
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed assets, so browsers must revalidate it on every load. */
export const HTML_CACHE = 'no-cache';
/** Unhashed files from public/ (favicon.ico): short-lived, then revalidated. */
export const PLAIN_CACHE = 'public, max-age=3600';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
};

export class StaticDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StaticDirError';
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/**
 * Reads the built SPA once at start: a request can then only ever reach a file listed here, which
 * rules out path traversal, and ETags are content hashes computed once.
 */
export async function loadStaticManifest(dir: string): Promise<StaticManifest> {
  const hint = 'build the SPA with `npx nx build web` or set STATIC_DIR to the directory holding index.html';
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (error) {
    throw new StaticDirError(
      `STATIC_DIR "${dir}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}): ${hint}`,
    );
  }
  const manifest: StaticManifest = new Map();
  for (const absolutePath of files) {
    const urlPath = '/' + relative(dir, absolutePath).split(sep).join('/');
    const [info, content] = await Promise.all([stat(absolutePath), readFile(absolutePath)]);
    manifest.set(urlPath, {
      absolutePath,
      size: info.size,
      etag: `"${createHash('sha256').update(content).digest('base64url').slice(0, 27)}"`,
      lastModified: info.mtime.toUTCString(),
      contentType: CONTENT_TYPES[extname(absolutePath).toLowerCase()] ?? 'application/octet-stream',
      cacheControl:
        urlPath === '/index.html' ? HTML_CACHE : urlPath.startsWith('/assets/') ? IMMUTABLE_CACHE : PLAIN_CACHE,
    });
  }
  if (!manifest.has('/index.html')) throw new StaticDirError(`STATIC_DIR "${dir}" has no index.html: ${hint}`);
  return manifest;
}

/** Path prefixes that belong to the server or the API: never answered with the SPA's index.html. */
const NOT_SPA_PREFIXES = ['/api/', '/health/', '/metrics/'];

/**
 * Which file answers `pathname`: the file itself, or index.html for client-side routes (/order,
 * /status). A path that looks like a file (has an extension) and is missing is a 404, so a stale
 * asset URL fails loudly instead of receiving HTML.
 */
export function resolveStaticFile(manifest: StaticManifest, pathname: string): StaticFile | undefined {
  const exact = manifest.get(pathname === '/' ? '/index.html' : pathname);
  if (exact) return exact;
  if (NOT_SPA_PREFIXES.some((prefix) => pathname.startsWith(prefix))) return undefined;
  const lastSegment = pathname.slice(pathname.lastIndexOf('/') + 1);
  if (lastSegment.includes('.')) return undefined;
  return manifest.get('/index.html');
}

function decodePathname(url: string): string | undefined {
  const raw = url.split('?')[0];
  try {
    return decodeURIComponent(raw);
  } catch {
    return undefined;
  }
}

/** Serves the SPA for every GET/HEAD no other route claims. */
export function registerStaticFiles(app: FastifyInstance, manifest: StaticManifest): void {
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const pathname = decodePathname(request.url);
    const file = pathname === undefined ? undefined : resolveStaticFile(manifest, pathname);
    if (!file) return reply.callNotFound();
    reply
      .header('content-type', file.contentType)
      .header('cache-control', file.cacheControl)
      .header('etag', file.etag)
      .header('last-modified', file.lastModified);
    if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
    reply.header('content-length', file.size);
    if (request.method === 'HEAD') return reply.send();
    return reply.send(createReadStream(file.absolutePath));
  };
  // Static files cost no upstream work and a page load fetches several: keep them out of the rate limit.
  // HEAD declared explicitly: Fastify's generated HEAD route would overwrite content-length with 0.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/*',
    config: { rateLimit: false },
    handler: serve,
  });
}
