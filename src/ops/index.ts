export { Metrics } from './metrics';
export { OpsModule } from './ops.module';
