import {
  MAX_ITEM_QUANTITY,
  MAX_ORDER_ITEMS,
  MAX_PAGE_LIMIT,
  OrderCreateBody,
  contractViolations,
  type Order,
  type ProductListResponse,
  type Product,
  type ValidationErrorDetail,
} from '@slipway/contracts';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useApiClient } from '../api/api-context';
import { toApiError, type CreatedOrder } from '../api/client';
import { newIdempotencyKey } from '../api/idempotency-key';
import { formatMoney } from '../lib/format';
import { errorMessage } from '../lib/error-message';
import { useDocumentTitle } from '../lib/use-document-title';

type LoadState =
  | { status: 'loading' }
  | { status: 'error'; message: string }
  | { status: 'ready'; page: ProductListResponse };

/** Field errors keyed by input: 'customerEmail', 'items', or a product id for its quantity. */
type FieldErrors = Record<string, string>;

interface FormState {
  customerEmail: string;
  /** Raw input per product id, so a half-typed value is not coerced while the user types. */
  quantities: Record<string, string>;
}

export interface OrderDraft {
  body: OrderCreateBody;
  errors: FieldErrors;
}

/**
 * Turns the form into the request body and every problem with it. The contract schema has the last
 * word, so the browser never sends what the orders service would reject for shape.
 */
export function buildOrderDraft(form: FormState, products: Product[]): OrderDraft {
  const errors: FieldErrors = {};
  const items: OrderCreateBody['items'] = [];
  for (const product of products) {
    const raw = (form.quantities[product.id] ?? '').trim();
    if (raw === '' || raw === '0') continue;
    const quantity = Number(raw);
    if (!/^\d+$/.test(raw) || quantity < 1 || quantity > MAX_ITEM_QUANTITY) {
      errors[product.id] = `Quantity of ${product.name} must be a whole number from 1 to ${MAX_ITEM_QUANTITY}.`;
    } else if (quantity > product.stock) {
      errors[product.id] = `Only ${product.stock} of ${product.name} in stock.`;
    } else {
      items.push({ productId: product.id, quantity });
    }
  }
  const body: OrderCreateBody = {
    customerEmail: form.customerEmail.trim(),
    items,
  };
  if (body.customerEmail === '') errors['customerEmail'] = 'Enter your email address.';
  if (items.length === 0 && Object.keys(errors).every((key) => key === 'customerEmail')) {
    errors['items'] = 'Choose a quantity for at least one product.';
  }
  for (const violation of contractViolations(OrderCreateBody, body)) {
    if (violation.path.startsWith('/customerEmail')) {
      errors['customerEmail'] ??= 'Enter a valid email address, e.g. ada@example.com.';
    } else if (violation.path === '/items' && items.length > 0) {
      errors['items'] ??= `An order holds 1 to ${MAX_ORDER_ITEMS} different products.`;
    }
  }
  return { body, errors };
}

export function OrderPage() {
  useDocumentTitle('Order');
  const api = useApiClient();
  const [searchParams] = useSearchParams();
  const preselected = searchParams.get('product');
  const [load, setLoad] = useState<LoadState>({ status: 'loading' });
  const [reloads, setReloads] = useState(0);
  const [confirmed, setConfirmed] = useState<CreatedOrder | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    setLoad({ status: 'loading' });
    api
      .listProducts({ q: '', limit: MAX_PAGE_LIMIT, offset: 0 }, controller.signal)
      .then((page) => setLoad({ status: 'ready', page }))
      .catch((error: unknown) => {
        if (controller.signal.aborted) return;
        setLoad({ status: 'error', message: errorMessage(error) });
      });
    return () => controller.abort();
  }, [api, reloads]);

  return (
    <>
      <h1>Place an order</h1>
      {confirmed ? (
        <Confirmation created={confirmed} onAnother={() => setConfirmed(null)} />
      ) : (
        <>
          {load.status === 'loading' && <p role="status">Loading products…</p>}
          {load.status === 'error' && (
            <div role="alert">
              <p>Could not load products: {load.message}</p>
              <button type="button" onClick={() => setReloads((n) => n + 1)}>
                Retry
              </button>
            </div>
          )}
          {load.status === 'ready' &&
            (load.page.items.length === 0 ? (
              <p role="status">
                No products available to order yet. <Link to="/">Back to products</Link>
              </p>
            ) : (
              <OrderForm page={load.page} preselected={preselected} onConfirmed={setConfirmed} />
            ))}
        </>
      )}
    </>
  );
}

interface Attempt {
  bodyJson: string;
  key: string;
  outcomeUnknown: boolean;
}

function OrderForm({
  page,
  preselected,
  onConfirmed,
}: {
  page: ProductListResponse;
  preselected: string | null;
  onConfirmed: (created: CreatedOrder) => void;
}) {
  const api = useApiClient();
  const products = page.items;
  const [form, setForm] = useState<FormState>(() => ({
    customerEmail: '',
    quantities: preselected && products.some((p) => p.id === preselected) ? { [preselected]: '1' } : {},
  }));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [serverError, setServerError] = useState<{
    message: string;
    details: ValidationErrorDetail[];
  } | null>(null);
  const [submitting, setSubmitting] = useState(false);
  // The last attempt whose outcome is unknown (no answer, 502, 504): resubmitting the same body reuses
  // its key, so a retry cannot create the order twice. Any real answer retires the key.
  const lastAttempt = useRef<Attempt | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (submitting) return;
    const draft = buildOrderDraft(form, products);
    setErrors(draft.errors);
    setServerError(null);
    if (Object.keys(draft.errors).length > 0) return;

    const bodyJson = JSON.stringify(draft.body);
    const previous = lastAttempt.current;
    const key =
      previous && previous.outcomeUnknown && previous.bodyJson === bodyJson ? previous.key : newIdempotencyKey();
    setSubmitting(true);
    try {
      const created = await api.createOrder(draft.body, key);
      lastAttempt.current = null;
      onConfirmed(created);
    } catch (error) {
      const apiError = toApiError(error);
      lastAttempt.current = {
        bodyJson,
        key,
        outcomeUnknown: apiError.outcomeUnknown,
      };
      const fieldErrors: FieldErrors = {};
      for (const detail of apiError.details) {
        if (/customerEmail$/.test(detail.field)) fieldErrors['customerEmail'] = detail.message;
      }
      setErrors(fieldErrors);
      setServerError({ message: apiError.message, details: apiError.details });
      setSubmitting(false);
    }
  };

  const setQuantity = (productId: string, value: string) =>
    setForm((f) => ({
      ...f,
      quantities: { ...f.quantities, [productId]: value },
    }));

  const errorCount = Object.keys(errors).length;
  const estimate = estimateTotal(form, products);

  return (
    <form aria-label="Order" noValidate onSubmit={submit}>
      {errorCount > 0 && (
        <div role="alert" className="error-summary">
          <p>Please fix {errorCount === 1 ? 'this problem' : `these ${errorCount} problems`}:</p>
          <ul>
            {Object.entries(errors).map(([field, message]) => (
              <li key={field}>{message}</li>
            ))}
          </ul>
        </div>
      )}
      {serverError && (
        <div role="alert" className="error-summary">
          <p>The order was not placed: {serverError.message}</p>
          {serverError.details.length > 0 && (
            <ul>
              {serverError.details.map((detail) => (
                <li key={`${detail.field}:${detail.message}`}>
                  {detail.field}: {detail.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <fieldset aria-describedby={errors['items'] ? 'items-error' : undefined}>
        <legend>Products</legend>
        {errors['items'] && (
          <p id="items-error" className="field-error">
            {errors['items']}
          </p>
        )}
        {page.total > products.length && (
          <p>
            Showing the first {products.length} of {page.total} products.
          </p>
        )}
        <table>
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col">Price</th>
              <th scope="col">In stock</th>
              <th scope="col">Quantity</th>
            </tr>
          </thead>
          <tbody>
            {products.map((product) => {
              const inputId = `quantity-${product.id}`;
              const error = errors[product.id];
              return (
                <tr key={product.id}>
                  <th scope="row">{product.name}</th>
                  <td>{formatMoney(product.priceCents, product.currency)}</td>
                  <td>{product.stock}</td>
                  <td>
                    <input
                      id={inputId}
                      type="number"
                      inputMode="numeric"
                      min={0}
                      max={Math.min(MAX_ITEM_QUANTITY, product.stock)}
                      disabled={product.stock === 0}
                      aria-label={`Quantity of ${product.name}`}
                      aria-invalid={error ? true : undefined}
                      aria-describedby={error ? `${inputId}-error` : undefined}
                      value={form.quantities[product.id] ?? ''}
                      onChange={(event) => setQuantity(product.id, event.target.value)}
                    />
                    {error && (
                      <span id={`${inputId}-error`} className="field-error">
                        {error}
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </fieldset>
      <p>
        <label htmlFor="customer-email">Email</label>
        <input
          id="customer-email"
          type="email"
          autoComplete="email"
          required
          aria-invalid={errors['customerEmail'] ? true : undefined}
          aria-describedby={errors['customerEmail'] ? 'customer-email-error' : undefined}
          value={form.customerEmail}
          onChange={(event) => setForm((f) => ({ ...f, customerEmail: event.target.value }))}
        />
        {errors['customerEmail'] && (
          <span id="customer-email-error" className="field-error">
            {errors['customerEmail']}
          </span>
        )}
      </p>
      {estimate && <p>Estimated total: {estimate}</p>}
      <button type="submit" disabled={submitting}>
        {submitting ? 'Placing order…' : 'Place order'}
      </button>
    </form>
  );
}

/** Sum of the valid lines, shown only when they share one currency (the service prices the order). */
function estimateTotal(form: FormState, products: Product[]): string | null {
  let cents = 0;
  const currencies = new Set<string>();
  for (const product of products) {
    const raw = form.quantities[product.id] ?? '';
    if (!/^\d+$/.test(raw) || Number(raw) === 0) continue;
    cents += Number(raw) * product.priceCents;
    currencies.add(product.currency);
  }
  if (currencies.size !== 1) return null;
  return formatMoney(cents, [...currencies][0]);
}

function Confirmation({ created, onAnother }: { created: CreatedOrder; onAnother: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const order: Order = created.order;
  return (
    <section aria-labelledby="confirmation-heading">
      <h2 id="confirmation-heading" ref={heading} tabIndex={-1}>
        Order confirmed
      </h2>
      {created.replayed && <p>This order had already been placed; this is its original confirmation.</p>}
      <dl>
        <dt>Order ID</dt>
        <dd data-testid="order-id">{order.id}</dd>
        <dt>Total</dt>
        <dd data-testid="order-total">{formatMoney(order.totalCents, order.currency)}</dd>
        <dt>Email</dt>
        <dd>{order.customerEmail}</dd>
      </dl>
      <table>
        <caption>Items</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Quantity</th>
            <th scope="col">Unit price</th>
            <th scope="col">Line total</th>
          </tr>
        </thead>
        <tbody>
          {order.items.map((item) => (
            <tr key={item.productId}>
              <th scope="row">{item.name}</th>
              <td>{item.quantity}</td>
              <td>{formatMoney(item.unitPriceCents, order.currency)}</td>
              <td>{formatMoney(item.lineTotalCents, order.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={onAnother}>
        Place another order
      </button>
    </section>
  );
}
