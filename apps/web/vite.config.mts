/// <reference types='vitest' />
import { defineConfig, defaultClientConditions, type Plugin, type ProxyOptions } from 'vite';
import react from '@vitejs/plugin-react';

// Same defaults as the production server (apps/web/server): the product ports of catalog and orders.
const catalogUrl = process.env['CATALOG_URL'] || 'http://127.0.0.1:3101';
const ordersUrl = process.env['ORDERS_URL'] || 'http://127.0.0.1:3102';

/** `/api/<service>/x` → `<upstream>/x`, as the production server does. */
function upstream(prefix: string, target: string): ProxyOptions {
  return {
    target,
    changeOrigin: true,
    rewrite: (path) => path.slice(prefix.length) || '/',
  };
}

const proxy: Record<string, ProxyOptions> = {
  '/api/catalog': upstream('/api/catalog', catalogUrl),
  '/api/orders': upstream('/api/orders', ordersUrl),
};

/**
 * The dev and preview servers describe themselves on /health like the production server does, so
 * the /status page is meaningful under `nx serve web`. They check nothing: readiness is always ready.
 */
function devServerHealth(): Plugin {
  const started = Date.now();
  const handler = (req: { url?: string }, res: import('node:http').ServerResponse, next: () => void) => {
    const path = (req.url ?? '').split('?')[0];
    const bodies: Record<string, unknown> = {
      '/health': {
        service: 'web',
        version: process.env['APP_VERSION'] || '0.0.0-dev',
        revision: process.env['APP_REVISION'] || 'unknown',
        status: 'ok',
        uptimeSeconds: (Date.now() - started) / 1000,
        checks: {},
      },
      '/health/liveness': { status: 'ok' },
      '/health/readiness': { status: 'ready', checks: {} },
    };
    if (!(path in bodies)) return next();
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.end(JSON.stringify(bodies[path]));
  };
  return {
    name: 'slipway-dev-server-health',
    configureServer: (server) => void server.middlewares.use(handler),
    configurePreviewServer: (server) => void server.middlewares.use(handler),
  };
}

export default defineConfig(() => ({
  root: import.meta.dirname,
  cacheDir: '../../node_modules/.vite/apps/web',
  resolve: {
    // Workspace libs resolve to their TypeScript sources, so dev needs no prior lib build.
    conditions: ['@slipway/source', ...defaultClientConditions],
  },
  server: {
    port: 4200,
    host: 'localhost',
    proxy,
  },
  preview: {
    port: 4300,
    host: 'localhost',
    proxy,
  },
  plugins: [react(), devServerHealth()],
  build: {
    // dist/public holds the SPA; dist/server holds the production server (build-server target).
    outDir: './dist/public',
    emptyOutDir: true,
    reportCompressedSize: true,
    commonjsOptions: {
      transformMixedEsModules: true,
    },
  },
}));
