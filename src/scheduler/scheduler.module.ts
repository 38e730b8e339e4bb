import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ConversationsModule } from '../conversations';
import { RelayModule } from '../relay';
import { CredentialRefresher } from './credential-refresher';
import { IdleConversationSweep } from './idle-conversation-sweep';
import { StaleIndexSweep } from './stale-index-sweep';
import { SWEEPS, type Sweep } from './sweep';
import { SweepScheduler } from './sweep-scheduler';

/**
 * Periodic work, each sweep on one replica at a time: credential refresh, the idle timeout,
 * stale index entries. Needs the global ConfigModule, RedisModule and MetricsModule.
 */
@Module({
  imports: [ScheduleModule.forRoot(), ConversationsModule, RelayModule],
  providers: [
    CredentialRefresher,
    IdleConversationSweep,
    StaleIndexSweep,
    {
      provide: SWEEPS,
      inject: [CredentialRefresher, IdleConversationSweep, StaleIndexSweep],
      useFactory: (...sweeps: Sweep[]) => sweeps,
    },
    SweepScheduler,
  ],
})
export class SchedulerModule {}
