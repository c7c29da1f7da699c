-- "mug-001" and "MUG-001" are the same stock keeping unit: enforce uniqueness case-insensitively.
CREATE UNIQUE INDEX products_sku_lower_key ON products (lower(sku));
