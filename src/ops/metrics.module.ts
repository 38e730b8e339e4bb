import { Global, Module } from '@nestjs/common';
import { Metrics } from './metrics';

/** The process's one Prometheus registry, for every module. */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
