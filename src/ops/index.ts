export { Metrics } from './metrics';
export { OpsModule } from './ops.module';
export { MetricsModule } from './metrics.module';
