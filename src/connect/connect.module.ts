import type { ConnectClient } from '@aws-sdk/client-connect';
import type { ConnectParticipantClient } from '@aws-sdk/client-connectparticipant';
import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import {
  CONNECT_CLIENT,
  CONNECT_PARTICIPANT_CLIENT,
  connectClientProviders,
} from './connect-clients';
import { ConnectGateway } from './connect-gateway';

/** Amazon Connect behind ConnectGateway. Needs AppConfig (the global ConfigModule). */
@Module({
  providers: [...connectClientProviders, ConnectGateway],
  exports: [ConnectGateway],
})
export class ConnectModule implements OnApplicationShutdown {
  constructor(
    @Inject(CONNECT_CLIENT) private readonly connect: ConnectClient,
    @Inject(CONNECT_PARTICIPANT_CLIENT) private readonly participant: ConnectParticipantClient,
  ) {}

  /** Closes the clients' keep-alive sockets. */
  onApplicationShutdown(): void {
    this.connect.destroy();
    this.participant.destroy();
  }
}
