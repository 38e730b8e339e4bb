import { ConnectClient } from '@aws-sdk/client-connect';
import { ConnectParticipantClient } from '@aws-sdk/client-connectparticipant';
import type { Provider } from '@nestjs/common';
import { AppConfig } from '../config';

export const CONNECT_CLIENT = Symbol('ConnectClient');
export const CONNECT_PARTICIPANT_CLIENT = Symbol('ConnectParticipantClient');

/**
 * Without timeouts a hung socket would hold a relay worker forever; a timeout surfaces as a
 * retryable error. The endpoints come from `AWS_ENDPOINT_URL_CONNECT[PARTICIPANT]`, which the
 * SDK reads itself; the SDK's standard retry (3 attempts) stays on.
 */
const requestHandler = { connectionTimeout: 3_000, requestTimeout: 15_000 };

export const connectClientProviders: Provider[] = [
  {
    provide: CONNECT_CLIENT,
    inject: [AppConfig],
    useFactory: (config: AppConfig) =>
      new ConnectClient({ region: config.aws.region, requestHandler }),
  },
  {
    provide: CONNECT_PARTICIPANT_CLIENT,
    inject: [AppConfig],
    useFactory: (config: AppConfig) =>
      new ConnectParticipantClient({ region: config.aws.region, requestHandler }),
  },
];
