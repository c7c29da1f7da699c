import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  IdempotencyClaimLostError,
  IdempotencyStoreUnavailableError,
  type ClaimResult,
  type IdempotencyStore,
  type StoreTimings,
  type StoredResponse,
} from './idempotency.js';

/*
 * The Redis Idempotency-Key store (REDIS_URL set). Exercised against the real Redis by the
 * integration suite (orders.int-spec.ts), not by the unit run.
 */
interface RedisRecord {
  state: 'in-progress' | 'completed';
  fingerprint: string;
  token: string;
  response?: StoredResponse;
}

// Compare-and-set / compare-and-delete on the holder's token, atomically inside Redis.
const COMPLETE_IF_HOLDER = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.token ~= ARGV[1] or record.state ~= 'in-progress' then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;
const RELEASE_IF_HOLDER = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local record = cjson.decode(current)
if record.token ~= ARGV[1] or record.state ~= 'in-progress' then return 0 end
return redis.call('DEL', KEYS[1])`;

/** Keys in Redis (REDIS_URL set): shared by every orders replica, expiring on their own. */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly kind = 'redis';
  readonly completesInTransaction = false;

  constructor(
    private readonly redis: Redis,
    private readonly timings: StoreTimings,
    private readonly prefix = 'slipway:orders:idempotency:',
  ) {}

  private redisKey(key: string): string {
    // Hashed: client keys may be long or contain characters that are awkward in key names.
    return `${this.prefix}${createHash('sha256').update(key).digest('hex')}`;
  }

  /** Every Redis failure becomes IdempotencyStoreUnavailableError (503), never a bare driver error. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof IdempotencyClaimLostError) throw error;
      throw new IdempotencyStoreUnavailableError(error);
    }
  }

  claim(key: string, fingerprint: string): Promise<ClaimResult> {
    return this.call(() => this.claimOnce(key, fingerprint));
  }

  private async claimOnce(key: string, fingerprint: string): Promise<ClaimResult> {
    const redisKey = this.redisKey(key);
    for (let attempt = 0; attempt < 5; attempt++) {
      const token = randomUUID();
      const record: RedisRecord = { state: 'in-progress', fingerprint, token };
      const set = await this.redis.set(redisKey, JSON.stringify(record), 'PX', this.timings.lockMs, 'NX');
      if (set === 'OK') return { kind: 'claimed', token };
      const current = await this.redis.get(redisKey);
      if (current === null) continue; // expired or released in between: try again
      const existing = JSON.parse(current) as RedisRecord;
      if (existing.state === 'completed' && existing.response) {
        return {
          kind: 'completed',
          fingerprint: existing.fingerprint,
          response: existing.response,
        };
      }
      return { kind: 'in-progress', fingerprint: existing.fingerprint };
    }
    throw new Error(`Idempotency-Key ${JSON.stringify(key)} keeps changing hands; retry the request`);
  }

  complete(key: string, token: string, response: StoredResponse): Promise<void> {
    return this.call(() => this.completeOnce(key, token, response));
  }

  private async completeOnce(key: string, token: string, response: StoredResponse): Promise<void> {
    const record = await this.redis.get(this.redisKey(key));
    const fingerprint = record ? (JSON.parse(record) as RedisRecord).fingerprint : '';
    const completed: RedisRecord = {
      state: 'completed',
      fingerprint,
      token,
      response,
    };
    const done = await this.redis.eval(
      COMPLETE_IF_HOLDER,
      1,
      this.redisKey(key),
      token,
      JSON.stringify(completed),
      this.timings.ttlMs,
    );
    if (done !== 1) throw new IdempotencyClaimLostError(key);
  }

  async release(key: string, token: string): Promise<void> {
    await this.call(() => this.redis.eval(RELEASE_IF_HOLDER, 1, this.redisKey(key), token));
  }
}
