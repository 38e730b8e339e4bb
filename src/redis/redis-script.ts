import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-options';

/**
 * A Lua script run by digest (EVALSHA), loaded on first use and after a server restart
 * (NOSCRIPT). On Cluster the call goes to the node of the first key, so every key must be
 * passed in `keys` and share its slot.
 */
export class RedisScript {
  private readonly digest: string;

  constructor(private readonly source: string) {
    this.digest = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.digest, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
