import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisClient } from './redis-options';
import { RedisScript } from './redis-script';

/** KEYS: the lease. ARGV: holder, lease ms. Pushes the expiry back for its holder only. */
const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** KEYS: the lease. ARGV: holder. Deletes the lease for its holder only. */
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/**
 * A lease on one Redis key: one holder at a time (SET NX PX), kept by its holder renewing it
 * before `leaseMs` runs out, freed early by its holder only. When the holder dies, the lease
 * runs out and another process can take it. Conversation locks and the scheduler's leaders
 * both use it. The holder id names the process (host/pid/random),
 * so an operator reading the key sees who holds it; it grants nothing and is no secret.
 */
export class LeaseLock {
  constructor(
    private readonly redis: RedisClient,
    readonly key: string,
    readonly leaseMs: number,
  ) {}

  /** The new holder's id when the lease was free; undefined while someone holds it. */
  async acquire(): Promise<string | undefined> {
    const holder = `${hostname()}/${process.pid}/${randomUUID()}`;
    const reply = await this.redis.set(this.key, holder, 'PX', this.leaseMs, 'NX');
    return reply === 'OK' ? holder : undefined;
  }

  /** Extends the lease to a full `leaseMs` from now; false when `holder` no longer holds it. */
  async renew(holder: string): Promise<boolean> {
    return (await RENEW.run(this.redis, [this.key], [holder, this.leaseMs])) === 1;
  }

  /** Frees the lease; false when `holder` no longer held it. */
  async release(holder: string): Promise<boolean> {
    return (await RELEASE.run(this.redis, [this.key], [holder])) === 1;
  }
}
