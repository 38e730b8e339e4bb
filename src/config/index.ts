export {
  AppConfig,
  ConfigError,
  type ConfigProblem,
  type HostPort,
  type RedisTopology,
} from './app-config';
export { ConfigModule } from './config.module';
