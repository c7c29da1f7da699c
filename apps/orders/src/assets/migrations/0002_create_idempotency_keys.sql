-- Idempotency-Key records when REDIS_URL is unset. One row per key: claimed ('in-progress', with
-- the claimer's token) until the order commits in the same transaction as 'completed' with the
-- response to replay. expires_at is the claim's lease while in progress and the retention after.
CREATE TABLE idempotency_keys (
  key             text        PRIMARY KEY,
  fingerprint     text        NOT NULL,
  state           text        NOT NULL CHECK (state IN ('in-progress', 'completed')),
  token           uuid        NOT NULL,
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL
);

CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
