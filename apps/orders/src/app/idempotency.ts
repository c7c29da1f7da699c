import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queryable } from '@slipway/service-kit/database';

/**
 * Idempotency-Key handling. The first request with a key CLAIMS it atomically (Redis SET NX, or
 * INSERT ... ON CONFLICT in PostgreSQL); only the claimer creates the order. Concurrent requests
 * with the same key and body wait for the claimer and replay its stored response; a different body
 * with the same key is refused. A failed attempt releases the key so the client can retry.
 */
export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

export type ClaimResult =
  | { kind: 'claimed'; token: string }
  | { kind: 'completed'; fingerprint: string; response: StoredResponse }
  | { kind: 'in-progress'; fingerprint: string };

export interface IdempotencyStore {
  readonly kind: 'redis' | 'postgres';
  /**
   * true: complete() runs inside the order's database transaction, so the order and the stored
   * response commit together. false: complete() runs after the commit (a separate system).
   */
  readonly completesInTransaction: boolean;
  claim(key: string, fingerprint: string): Promise<ClaimResult>;
  /** Stores the response for replay; throws IdempotencyClaimLostError when the lease was lost. */
  complete(key: string, token: string, response: StoredResponse, tx?: Queryable): Promise<void>;
  /** Gives the key up (the attempt failed) so a retry can claim it. No-op when no longer ours. */
  release(key: string, token: string): Promise<void>;
}

/** The store itself cannot be reached (e.g. Redis down): the request cannot be made idempotent. */
export class IdempotencyStoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`idempotency store unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'IdempotencyStoreUnavailableError';
  }
}

export class IdempotencyClaimLostError extends Error {
  constructor(key: string) {
    super(
      `the lease on Idempotency-Key ${JSON.stringify(key)} expired before the order was stored; retry with the same key`,
    );
    this.name = 'IdempotencyClaimLostError';
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Same body (ignoring key order and whitespace) → same fingerprint. */
export function requestFingerprint(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

export type AcquireOutcome =
  | { kind: 'claimed'; token: string }
  | { kind: 'replay'; response: StoredResponse }
  | { kind: 'mismatch' }
  | { kind: 'busy' };

export interface AcquireOptions {
  /** How long to wait for a claim held by another request. */
  waitMs: number;
  /** First pause between looks at a held claim; grows 1.5x per look up to maxPollMs, jittered. Default 25. */
  pollMs?: number;
  /** Default 250. */
  maxPollMs?: number;
}

/** Claims `key`, or waits (bounded) for its holder and returns what to answer instead. */
export async function acquireIdempotencyKey(
  store: IdempotencyStore,
  key: string,
  fingerprint: string,
  { waitMs, pollMs = 25, maxPollMs = 250 }: AcquireOptions,
): Promise<AcquireOutcome> {
  const deadline = Date.now() + waitMs;
  // Bounded twice over: by the deadline and by an attempt count, in case the clock misbehaves.
  const maxAttempts = Math.ceil(waitMs / pollMs) * 2 + 2;
  let pause = pollMs;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const claim = await store.claim(key, fingerprint);
    if (claim.kind === 'claimed') return claim;
    if (claim.fingerprint !== fingerprint) return { kind: 'mismatch' };
    if (claim.kind === 'completed') return { kind: 'replay', response: claim.response };
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    // Growing pauses: many waiters polling fast would load the store (and, with the embedded
    // PGlite, the event loop) that the holder needs to finish.
    await sleep(Math.min(remaining, pause / 2 + Math.random() * (pause / 2)));
    pause = Math.min(maxPollMs, pause * 1.5);
  }
  return { kind: 'busy' };
}

export interface StoreTimings {
  /** Lease of an in-progress claim. */
  lockMs: number;
  /** Retention of a completed response. */
  ttlMs: number;
}

interface KeyRow {
  fingerprint: string;
  state: 'in-progress' | 'completed';
  response_status: number | null;
  response_body: unknown;
}

/** Keys in the orders database (its own table), used when REDIS_URL is unset. */
export class PostgresIdempotencyStore implements IdempotencyStore {
  readonly kind = 'postgres';
  readonly completesInTransaction = true;

  constructor(
    private readonly db: Queryable,
    private readonly timings: StoreTimings,
  ) {}

  async claim(key: string, fingerprint: string): Promise<ClaimResult> {
    // Bounded: a row can vanish between the insert and the read only when its holder releases it.
    for (let attempt = 0; attempt < 5; attempt++) {
      const token = randomUUID();
      // New key, or an expired one (lease of a crashed holder, or retention over): take it.
      const claimed = await this.db.query(
        `INSERT INTO idempotency_keys (key, fingerprint, state, token, expires_at)
         VALUES ($1, $2, 'in-progress', $3, now() + $4 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE
            SET fingerprint = EXCLUDED.fingerprint, state = 'in-progress', token = EXCLUDED.token,
                response_status = NULL, response_body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
          WHERE idempotency_keys.expires_at <= now()
         RETURNING token`,
        [key, fingerprint, token, this.timings.lockMs],
      );
      if (claimed.rowCount === 1) return { kind: 'claimed', token };
      const { rows } = await this.db.query<KeyRow>(
        'SELECT fingerprint, state, response_status, response_body FROM idempotency_keys WHERE key = $1',
        [key],
      );
      const row = rows[0];
      if (!row) continue;
      if (row.state === 'completed') {
        return {
          kind: 'completed',
          fingerprint: row.fingerprint,
          response: {
            statusCode: row.response_status ?? 200,
            body: row.response_body,
          },
        };
      }
      return { kind: 'in-progress', fingerprint: row.fingerprint };
    }
    throw new Error(`Idempotency-Key ${JSON.stringify(key)} keeps changing hands; retry the request`);
  }

  async complete(key: string, token: string, response: StoredResponse, tx?: Queryable): Promise<void> {
    const { rowCount } = await (tx ?? this.db).query(
      `UPDATE idempotency_keys
          SET state = 'completed', response_status = $3, response_body = $4::jsonb,
              expires_at = now() + $5 * interval '1 millisecond'
        WHERE key = $1 AND token = $2 AND state = 'in-progress'`,
      [key, token, response.statusCode, JSON.stringify(response.body), this.timings.ttlMs],
    );
    if (rowCount !== 1) throw new IdempotencyClaimLostError(key);
  }

  async release(key: string, token: string): Promise<void> {
    await this.db.query("DELETE FROM idempotency_keys WHERE key = $1 AND token = $2 AND state = 'in-progress'", [
      key,
      token,
    ]);
  }

  /** Deletes expired keys; returns how many. */
  async sweep(): Promise<number> {
    return (await this.db.query('DELETE FROM idempotency_keys WHERE expires_at < now()')).rowCount;
  }
}
