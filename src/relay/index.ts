export { QUEUES, type QueueName } from './queues';
export { RelayModule } from './relay.module';
