import { createHttpClient, createService, serviceOptionsFromConfig, type Service } from '@slipway/service-kit';
import type { WebServerConfig } from './config';
import { registerProxy } from './proxy';
import { loadStaticManifest, registerStaticFiles } from './static-files';

export const UPSTREAMS = [
  { name: 'catalog', prefix: '/api/catalog', configKey: 'CATALOG_URL' },
  { name: 'orders', prefix: '/api/orders', configKey: 'ORDERS_URL' },
] as const;

export interface WebServerOptions {
  /** Used when STATIC_DIR is unset: main.ts passes the public/ directory next to the bundle. */
  defaultStaticDir?: string;
  /** Overrides for createService (tests silence the logger or capture it). */
  service?: Partial<Parameters<typeof createService>[0]>;
}

/**
 * The production web server: the built SPA, /api/catalog and /api/orders proxied to the services,
 * and the service-kit plumbing (health, metrics, request ids, graceful shutdown).
 */
export async function createWebServer(config: WebServerConfig, options: WebServerOptions = {}): Promise<Service> {
  const staticDir = config.STATIC_DIR ?? options.defaultStaticDir;
  if (!staticDir) throw new Error('STATIC_DIR is not set and no default was given: set STATIC_DIR to the built SPA');
  // Read before the service starts, so a missing build fails the start instead of every request.
  const manifest = await loadStaticManifest(staticDir);

  const service = await createService({
    ...serviceOptionsFromConfig('web', config),
    trustProxy: config.TRUST_PROXY,
    helmet: {
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'connect-src': ["'self'"],
          // Off: the web is also served over plain http (port-forwards, in-cluster); upgrading its
          // asset requests to https there would leave a blank page. TLS belongs to the ingress.
          'upgrade-insecure-requests': null,
        },
      },
    },
    ...options.service,
  });

  for (const upstream of UPSTREAMS) {
    const upstreamUrl = config[upstream.configKey];
    await registerProxy(service.app, {
      name: upstream.name,
      prefix: upstream.prefix,
      upstreamUrl,
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    });
    // Ready means the services behind /api answer; their own readiness is theirs to report.
    const client = createHttpClient(upstreamUrl, {
      timeoutMs: 2_000,
      retries: 0,
    });
    service.addReadinessCheck(upstream.name, async () => {
      await client.get('/health/liveness');
    });
  }
  registerStaticFiles(service.app, manifest);
  return service;
}
