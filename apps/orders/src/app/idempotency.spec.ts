import { createPgliteDatabase, loadMigrations, runMigrations, type Database } from '@slipway/service-kit/database';
import { defaultMigrationsDir } from './app.js';
import {
  acquireIdempotencyKey,
  IdempotencyClaimLostError,
  PostgresIdempotencyStore,
  requestFingerprint,
  type ClaimResult,
  type IdempotencyStore,
} from './idempotency.js';

describe('requestFingerprint', () => {
  it('ignores key order and undefined properties, not values', () => {
    const a = requestFingerprint({
      customerEmail: 'a@b.co',
      items: [{ productId: 'p', quantity: 1 }],
    });
    expect(
      requestFingerprint({
        items: [{ quantity: 1, productId: 'p' }],
        customerEmail: 'a@b.co',
        note: undefined,
      }),
    ).toBe(a);
    expect(
      requestFingerprint({
        customerEmail: 'a@b.co',
        items: [{ productId: 'p', quantity: 2 }],
      }),
    ).not.toBe(a);
    expect(requestFingerprint([1, 'x', null, true])).not.toBe(requestFingerprint([1, 'x', null, false]));
  });
});

/** A scripted store: answers claims from a queue, to drive acquireIdempotencyKey's decisions. */
function scriptedStore(answers: ClaimResult[]): IdempotencyStore & { claims: number } {
  const store = {
    kind: 'postgres' as const,
    completesInTransaction: true,
    claims: 0,
    async claim() {
      store.claims++;
      return answers[Math.min(store.claims - 1, answers.length - 1)];
    },
    complete: async () => undefined,
    release: async () => undefined,
  };
  return store;
}

describe('acquireIdempotencyKey', () => {
  const response = { statusCode: 201, body: { id: 'o1' } };

  it('returns the claim when the key is free', async () => {
    expect(
      await acquireIdempotencyKey(scriptedStore([{ kind: 'claimed', token: 't' }]), 'k', 'fp', { waitMs: 100 }),
    ).toEqual({
      kind: 'claimed',
      token: 't',
    });
  });

  it('refuses a key used with another body, also while it is in progress', async () => {
    expect(
      await acquireIdempotencyKey(scriptedStore([{ kind: 'completed', fingerprint: 'other', response }]), 'k', 'fp', {
        waitMs: 100,
      }),
    ).toEqual({ kind: 'mismatch' });
    expect(
      await acquireIdempotencyKey(scriptedStore([{ kind: 'in-progress', fingerprint: 'other' }]), 'k', 'fp', {
        waitMs: 100,
      }),
    ).toEqual({ kind: 'mismatch' });
  });

  it('waits for the holder and replays its response', async () => {
    const store = scriptedStore([
      { kind: 'in-progress', fingerprint: 'fp' },
      { kind: 'in-progress', fingerprint: 'fp' },
      { kind: 'completed', fingerprint: 'fp', response },
    ]);
    expect(
      await acquireIdempotencyKey(store, 'k', 'fp', {
        waitMs: 5_000,
        pollMs: 5,
      }),
    ).toEqual({ kind: 'replay', response });
    expect(store.claims).toBe(3);
  });

  it('takes the key over when the holder gives it up', async () => {
    const store = scriptedStore([
      { kind: 'in-progress', fingerprint: 'fp' },
      { kind: 'claimed', token: 'mine' },
    ]);
    expect(
      await acquireIdempotencyKey(store, 'k', 'fp', {
        waitMs: 5_000,
        pollMs: 5,
      }),
    ).toEqual({ kind: 'claimed', token: 'mine' });
  });

  it('looks at a held key less and less often', async () => {
    const store = scriptedStore([{ kind: 'in-progress', fingerprint: 'fp' }]);
    await acquireIdempotencyKey(store, 'k', 'fp', {
      waitMs: 400,
      pollMs: 10,
      maxPollMs: 80,
    });
    // fixed 10 ms pauses would mean about 50 looks in 400 ms (more with jitter); growing ones about 10
    expect(store.claims).toBeGreaterThan(2);
    expect(store.claims).toBeLessThan(20);
  });

  it('gives up as busy when the wait is over', async () => {
    const store = scriptedStore([{ kind: 'in-progress', fingerprint: 'fp' }]);
    const started = Date.now();
    expect(await acquireIdempotencyKey(store, 'k', 'fp', { waitMs: 60, pollMs: 10 })).toEqual({ kind: 'busy' });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(store.claims).toBeGreaterThan(1);
  });
});

describe('PostgresIdempotencyStore (PGlite)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await createPgliteDatabase();
    await runMigrations(db, await loadMigrations(defaultMigrationsDir()));
  });
  afterAll(() => db.close());
  beforeEach(() => db.exec('TRUNCATE idempotency_keys'));

  const timings = { lockMs: 60_000, ttlMs: 60_000 };
  const response = { statusCode: 201, body: { id: 'o1', totalCents: 5 } };

  it('claims a new key once; others see it in progress, then completed', async () => {
    const store = new PostgresIdempotencyStore(db, timings);
    const first = await store.claim('k1', 'fp');
    expect(first.kind).toBe('claimed');
    expect(await store.claim('k1', 'fp')).toEqual({
      kind: 'in-progress',
      fingerprint: 'fp',
    });
    await store.complete('k1', (first as { token: string }).token, response);
    expect(await store.claim('k1', 'fp')).toEqual({
      kind: 'completed',
      fingerprint: 'fp',
      response,
    });
  });

  it('lets only the holder complete or release', async () => {
    const store = new PostgresIdempotencyStore(db, timings);
    const claim = (await store.claim('k2', 'fp')) as { token: string };
    await expect(store.complete('k2', '00000000-0000-4000-8000-000000000000', response)).rejects.toBeInstanceOf(
      IdempotencyClaimLostError,
    );
    await store.release('k2', '00000000-0000-4000-8000-000000000000');
    expect((await store.claim('k2', 'fp')).kind).toBe('in-progress');
    await store.release('k2', claim.token);
    expect((await store.claim('k2', 'fp')).kind).toBe('claimed');
  });

  it('hands an expired lease (crashed holder) to the next request', async () => {
    const shortLease = new PostgresIdempotencyStore(db, {
      lockMs: 1,
      ttlMs: 60_000,
    });
    const crashed = (await shortLease.claim('k3', 'fp')) as { token: string };
    await new Promise((r) => setTimeout(r, 20));
    const next = await shortLease.claim('k3', 'fp');
    expect(next.kind).toBe('claimed');
    // the crashed holder can no longer store a response
    await expect(shortLease.complete('k3', crashed.token, response)).rejects.toThrow(
      /lease on Idempotency-Key "k3" expired/,
    );
  });

  it('forgets completed keys after the retention and sweeps them', async () => {
    const shortRetention = new PostgresIdempotencyStore(db, {
      lockMs: 60_000,
      ttlMs: 1,
    });
    const claim = (await shortRetention.claim('k4', 'fp')) as { token: string };
    await shortRetention.complete('k4', claim.token, response);
    await new Promise((r) => setTimeout(r, 20));
    expect(await shortRetention.sweep()).toBe(1);
    expect((await shortRetention.claim('k4', 'other-body')).kind).toBe('claimed');
  });

  it('completes inside a transaction: rolled back with it', async () => {
    const store = new PostgresIdempotencyStore(db, timings);
    const claim = (await store.claim('k5', 'fp')) as { token: string };
    await expect(
      db.transaction(async (tx) => {
        await store.complete('k5', claim.token, response, tx);
        throw new Error('order insert failed');
      }),
    ).rejects.toThrow('order insert failed');
    expect(await store.claim('k5', 'fp')).toEqual({
      kind: 'in-progress',
      fingerprint: 'fp',
    });
  });
});
