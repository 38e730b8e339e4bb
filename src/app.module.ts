import { type DynamicModule, Module } from '@nestjs/common';
import { ChannelsModule } from './channels';
import { type AppConfig, ConfigModule } from './config';
import { LoggingModule, type RootLogger } from './logging';
import { OpsModule } from './ops';
import { RedisModule } from './redis';
import { RelayModule } from './relay';
import { StreamingModule } from './streaming';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, logger: RootLogger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(logger),
        RedisModule,
        RelayModule,
        OpsModule,
        ChannelsModule,
        StreamingModule,
      ],
    };
  }
}
