import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config';

/**
 * Every key the service writes, BullMQ's included, starts with the configured prefix in a
 * hash tag (`{csb}:…`), so multi-key scripts stay in one slot on Redis Cluster.
 */
@Injectable()
export class RedisKeys {
  /** The prefix handed to BullMQ: its keys become `{csb}:<queue>:…`. */
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = `{${config.redis.keyPrefix}}`;
  }

  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }
}
