import { Global, Module } from '@nestjs/common';
import { RedisConnections } from './redis-connections';
import { RedisKeys } from './redis-keys';

@Global()
@Module({
  providers: [RedisConnections, RedisKeys],
  exports: [RedisConnections, RedisKeys],
})
export class RedisModule {}
