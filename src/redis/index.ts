export { RedisConnections } from './redis-connections';
export { LeaseLock } from './lease-lock';
export { RedisKeys } from './redis-keys';
export { RedisModule } from './redis.module';
export type { RedisClient } from './redis-options';
export { RedisScript } from './redis-script';
