import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { MetricsModule } from './metrics.module';
import { StateGauges } from './state-gauges';

@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    RelayModule,
    ConversationsModule,
    MetricsModule,
  ],
  controllers: [HealthController, MetricsController],
  providers: [StateGauges],
})
export class OpsModule {}
