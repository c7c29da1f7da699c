import { parseContract, Product, ContractViolationError } from '@slipway/contracts';
import { DownstreamError, DownstreamUnavailableError, type HttpClient } from '@slipway/service-kit';

/** The catalog did not answer usefully (down, timing out, 502/503/504 after the retries). */
export class CatalogUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`catalog unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'CatalogUnavailableError';
  }
}

/** The catalog answered, but not as its contract says (unexpected status or body). */
export class CatalogContractError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'CatalogContractError';
  }
}

export interface CatalogClient {
  /** The product, or undefined when the catalog has no product with this id (404). */
  getProduct(id: string): Promise<Product | undefined>;
}

/**
 * Orders' view of the catalog over HTTP. Timeouts and bounded retries come from the HttpClient
 * (service-kit); this layer maps outcomes to what an order needs and checks every response
 * against the shared contract, so a catalog change that breaks orders fails loudly here.
 */
export function createCatalogClient(http: HttpClient): CatalogClient {
  return {
    async getProduct(id) {
      let body: unknown;
      try {
        body = await http.get(`/products/${encodeURIComponent(id)}`);
      } catch (error) {
        if (error instanceof DownstreamError && error.status === 404) return undefined;
        if (error instanceof DownstreamUnavailableError) throw new CatalogUnavailableError(error);
        if (error instanceof DownstreamError) {
          throw new CatalogContractError(
            `catalog GET /products/${id} answered ${error.status}, expected 200 or 404`,
            error,
          );
        }
        throw error;
      }
      try {
        const product = parseContract(Product, body, `catalog GET /products/${id} response`);
        if (product.id !== id)
          throw new CatalogContractError(`catalog GET /products/${id} returned product ${product.id}`);
        return product;
      } catch (error) {
        if (error instanceof ContractViolationError) throw new CatalogContractError(error.message, error);
        throw error;
      }
    },
  };
}
