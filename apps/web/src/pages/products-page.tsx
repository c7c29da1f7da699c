import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, type ProductListResponse } from '@slipway/contracts';
import { useEffect, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useApiClient } from '../api/api-context';
import type { ProductQuery } from '../api/client';
import { formatMoney } from '../lib/format';
import { errorMessage } from '../lib/error-message';
import { useDocumentTitle } from '../lib/use-document-title';

export const PAGE_SIZES = [10, 20, 50, 100] as const;
/** Mirrors the catalog's ProductListQuery.q maxLength, so the URL can never hold a query it rejects. */
const MAX_QUERY_LENGTH = 100;

/** Reads q/limit/offset from the URL, falling back to defaults for anything the catalog would reject. */
export function parseProductQuery(params: URLSearchParams): ProductQuery {
  const q = (params.get('q') ?? '').trim().slice(0, MAX_QUERY_LENGTH);
  const limit = parseIntInRange(params.get('limit'), 1, MAX_PAGE_LIMIT) ?? DEFAULT_PAGE_LIMIT;
  const offset = parseIntInRange(params.get('offset'), 0, Number.MAX_SAFE_INTEGER) ?? 0;
  return { q, limit, offset };
}

function parseIntInRange(raw: string | null, min: number, max: number): number | undefined {
  if (raw === null || !/^\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function toSearchParams(query: ProductQuery): URLSearchParams {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.limit !== DEFAULT_PAGE_LIMIT) params.set('limit', String(query.limit));
  if (query.offset > 0) params.set('offset', String(query.offset));
  return params;
}

type LoadState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; page: ProductListResponse };

export function ProductsPage() {
  useDocumentTitle('Products');
  const api = useApiClient();
  const [searchParams, setSearchParams] = useSearchParams();
  const query = parseProductQuery(searchParams);
  const [state, setState] = useState<LoadState>({ status: 'loading' });
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState({ status: 'loading' });
    api
      .listProducts({ q: query.q, limit: query.limit, offset: query.offset }, controller.signal)
      .then((page) => setState({ status: 'ready', page }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ status: 'error', message: errorMessage(error) });
      });
    return () => controller.abort();
  }, [api, query.q, query.limit, query.offset, reloads]);

  const navigate = (next: Partial<ProductQuery>) => setSearchParams(toSearchParams({ ...query, ...next }));

  return (
    <>
      <h1>Products</h1>
      {/* Keyed by q so the field follows the URL on back/forward navigation. */}
      <SearchForm key={query.q} initial={query.q} onSearch={(q) => navigate({ q, offset: 0 })} />
      {state.status === 'loading' && <p role="status">Loading products…</p>}
      {state.status === 'error' && (
        <div role="alert">
          <p>Could not load products: {state.message}</p>
          <button type="button" onClick={() => setReloads((n) => n + 1)}>
            Retry
          </button>
        </div>
      )}
      {state.status === 'ready' && <ProductResults page={state.page} query={query} onNavigate={navigate} />}
    </>
  );
}

function SearchForm({ initial, onSearch }: { initial: string; onSearch: (q: string) => void }) {
  const [value, setValue] = useState(initial);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(value.trim());
  };
  return (
    <form role="search" aria-label="Products" onSubmit={submit} className="toolbar">
      <label htmlFor="product-search">Search products</label>
      <input
        id="product-search"
        type="search"
        value={value}
        maxLength={MAX_QUERY_LENGTH}
        onChange={(event) => setValue(event.target.value)}
      />
      <button type="submit">Search</button>
    </form>
  );
}

function ProductResults({
  page,
  query,
  onNavigate,
}: {
  page: ProductListResponse;
  query: ProductQuery;
  onNavigate: (next: Partial<ProductQuery>) => void;
}) {
  if (page.total === 0) {
    return <p role="status">{query.q ? `No products match “${query.q}”.` : 'No products yet.'}</p>;
  }
  if (page.items.length === 0) {
    // A bookmarked offset past the end: say so instead of an empty table.
    return (
      <p role="status">
        No products on this page.{' '}
        <button type="button" onClick={() => onNavigate({ offset: 0 })}>
          Go to the first page
        </button>
      </p>
    );
  }
  const first = query.offset + 1;
  const last = query.offset + page.items.length;
  return (
    <>
      <table>
        <caption>Products</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">SKU</th>
            <th scope="col">Price</th>
            <th scope="col">In stock</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {page.items.map((product) => (
            <tr key={product.id}>
              <th scope="row">{product.name}</th>
              <td>{product.sku}</td>
              <td>{formatMoney(product.priceCents, product.currency)}</td>
              <td>{product.stock}</td>
              <td>
                {product.stock > 0 ? (
                  <Link to={`/order?product=${encodeURIComponent(product.id)}`} aria-label={`Order ${product.name}`}>
                    Order
                  </Link>
                ) : (
                  'Out of stock'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <nav aria-label="Pagination" className="toolbar">
        <p>
          Showing {first}–{last} of {page.total}
        </p>
        <button
          type="button"
          disabled={query.offset === 0}
          onClick={() => onNavigate({ offset: Math.max(0, query.offset - query.limit) })}
        >
          Previous
        </button>
        <button
          type="button"
          disabled={query.offset + query.limit >= page.total}
          onClick={() => onNavigate({ offset: query.offset + query.limit })}
        >
          Next
        </button>
        <label htmlFor="page-size">Per page</label>
        <select
          id="page-size"
          value={query.limit}
          onChange={(event) => onNavigate({ limit: Number(event.target.value), offset: 0 })}
        >
          {[...new Set([...PAGE_SIZES, query.limit])]
            .sort((a, b) => a - b)
            .map((size) => (
              <option key={size} value={size}>
                {size}
              </option>
            ))}
        </select>
      </nav>
    </>
  );
}
