-- Orders and their lines. Lines copy sku, name and price from the catalog at order time, so an
-- order keeps what the customer saw even after the catalog changes.
CREATE TABLE orders (
  id             uuid        PRIMARY KEY,
  customer_email text        NOT NULL,
  status         text        NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed')),
  currency       text        NOT NULL CHECK (currency IN ('EUR', 'USD')),
  total_cents    bigint      NOT NULL CHECK (total_cents >= 0),
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- GET /orders lists newest first.
CREATE INDEX orders_created_at_id_idx ON orders (created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  line_no          integer NOT NULL,
  product_id       uuid    NOT NULL,
  sku              text    NOT NULL,
  name             text    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  line_total_cents bigint  NOT NULL CHECK (line_total_cents >= 0),
  PRIMARY KEY (order_id, line_no)
);
