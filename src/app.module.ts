import { type DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin';
import { ChannelsModule } from './channels';
import { type AppConfig, ConfigModule } from './config';
import { LoggingModule, type RootLogger } from './logging';
import { MetricsModule, OpsModule } from './ops';
import { RedisModule } from './redis';
import { RelayModule } from './relay';
import { SchedulerModule } from './scheduler';
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
        MetricsModule,
        RelayModule,
        OpsModule,
        ChannelsModule,
        StreamingModule,
        SchedulerModule,
        AdminModule,
      ],
    };
  }
}
