import { createServer, type AddressInfo } from 'node:net';
import { createHttpClient } from '@slipway/service-kit';
import { product, startFakeCatalog, type FakeCatalog } from '../test-support/fake-catalog.js';
import { CatalogContractError, CatalogUnavailableError, createCatalogClient } from './catalog-client.js';

const mug = product({
  id: '11111111-1111-4111-8111-111111111111',
  sku: 'MUG-001',
});

describe('catalog client (stand-in catalog over HTTP)', () => {
  let fake: FakeCatalog;
  const client = () =>
    createCatalogClient(
      createHttpClient(fake.url, {
        timeoutMs: 1_000,
        retries: 2,
        retryDelayMs: 1,
      }),
    );

  beforeAll(async () => (fake = await startFakeCatalog([mug])));
  afterAll(() => fake.close());
  beforeEach(() => {
    fake.mode = { kind: 'ok' };
    fake.requests.length = 0;
  });

  it('returns the product checked against the contract', async () => {
    expect(await client().getProduct(mug.id)).toEqual(mug);
    expect(fake.requests).toEqual([`/products/${mug.id}`]);
  });

  it('returns undefined for 404 without retrying', async () => {
    expect(await client().getProduct('99999999-9999-4999-8999-999999999999')).toBeUndefined();
    expect(fake.requests).toHaveLength(1);
  });

  it('maps 503 after the bounded retries to CatalogUnavailableError', async () => {
    fake.mode = { kind: 'status', status: 503 };
    const error = await client()
      .getProduct(mug.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogUnavailableError);
    expect((error as Error).message).toMatch(/^catalog unavailable: GET .* unavailable after 3 attempts: answered 503/);
    expect(fake.requests).toHaveLength(3);
  });

  it('maps a timeout to CatalogUnavailableError', async () => {
    fake.mode = { kind: 'hang' };
    const quick = createCatalogClient(createHttpClient(fake.url, { timeoutMs: 100, retries: 0 }));
    await expect(quick.getProduct(mug.id)).rejects.toThrow(/catalog unavailable: .*timed out after 100 ms/);
  });

  it('maps a refused connection to CatalogUnavailableError', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const offline = createCatalogClient(
      createHttpClient(`http://127.0.0.1:${port}`, {
        retries: 1,
        retryDelayMs: 1,
      }),
    );
    await expect(offline.getProduct(mug.id)).rejects.toBeInstanceOf(CatalogUnavailableError);
  });

  it('maps other statuses to CatalogContractError without retrying', async () => {
    fake.mode = { kind: 'status', status: 500 };
    const error = await client()
      .getProduct(mug.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogContractError);
    expect((error as Error).message).toBe(`catalog GET /products/${mug.id} answered 500, expected 200 or 404`);
    expect(fake.requests).toHaveLength(1);
  });

  it('names the field when the body breaks the contract', async () => {
    fake.mode = { kind: 'body', body: { ...mug, stock: -1 } };
    const error = await client()
      .getProduct(mug.id)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CatalogContractError);
    expect((error as Error).message).toContain(
      `catalog GET /products/${mug.id} response does not match its contract: /stock`,
    );
  });

  it('refuses a product other than the one asked for', async () => {
    fake.mode = {
      kind: 'body',
      body: { ...mug, id: '22222222-2222-4222-8222-222222222222' },
    };
    await expect(client().getProduct(mug.id)).rejects.toThrow(
      `catalog GET /products/${mug.id} returned product 22222222-2222-4222-8222-222222222222`,
    );
  });
});
