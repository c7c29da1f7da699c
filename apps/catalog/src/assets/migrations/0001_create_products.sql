-- Products of the catalog. Prices are integer cents; currency is an ISO 4217 code.
CREATE TABLE products (
  id          uuid        PRIMARY KEY,
  sku         text        NOT NULL,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  price_cents integer     NOT NULL CHECK (price_cents >= 0),
  currency    text        NOT NULL CHECK (currency IN ('EUR', 'USD')),
  stock       integer     NOT NULL CHECK (stock >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The list endpoint pages by (name, id).
CREATE INDEX products_name_id_idx ON products (name, id);
