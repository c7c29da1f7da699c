import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Product } from '@slipway/contracts';

/**
 * A stand-in for the catalog over real HTTP (ephemeral port), serving GET /products/:id from a
 * map, with switchable failure modes. Unit tests use it; the contract suite uses the real catalog.
 */
export type CatalogMode =
  | { kind: 'ok'; delayMs?: number }
  | { kind: 'status'; status: number }
  | { kind: 'body'; body: unknown }
  | { kind: 'hang' };

export interface FakeCatalog {
  url: string;
  products: Map<string, Product>;
  mode: CatalogMode;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export function product(overrides: Partial<Product> & Pick<Product, 'id' | 'sku'>): Product {
  return {
    name: `Product ${overrides.sku}`,
    description: '',
    priceCents: 1000,
    currency: 'EUR',
    stock: 10,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export async function startFakeCatalog(products: Product[] = []): Promise<FakeCatalog> {
  const hanging = new Set<ServerResponse>();
  const fake: FakeCatalog = {
    url: '',
    products: new Map(products.map((p) => [p.id, p])),
    mode: { kind: 'ok' },
    requests: [],
    close: async () => undefined,
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    fake.requests.push(req.url ?? '');
    const mode = fake.mode;
    if (mode.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (mode.kind === 'status')
      return send(res, mode.status, {
        statusCode: mode.status,
        error: 'Error',
        message: 'fake failure',
      });
    if (mode.kind === 'body') return send(res, 200, mode.body);
    const id = /^\/products\/([^/?]+)$/.exec(req.url ?? '')?.[1];
    const found = id ? fake.products.get(decodeURIComponent(id)) : undefined;
    const answer = () =>
      found
        ? send(res, 200, found)
        : send(res, 404, {
            statusCode: 404,
            error: 'Not Found',
            message: `product ${id} not found`,
          });
    if (mode.delayMs) setTimeout(answer, mode.delayMs);
    else answer();
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return fake;
}
