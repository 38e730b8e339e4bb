import { SNSClient } from '@aws-sdk/client-sns';
import type { Provider } from '@nestjs/common';
import { AppConfig } from '../config';

/** The SNS client; tests replace it with one pointed at the emulator. */
export const SNS_CLIENT = Symbol('SNSClient');

/**
 * The endpoint comes from `AWS_ENDPOINT_URL_SNS`, which the SDK reads itself; its standard
 * retry (3 attempts) stays on. Timeouts keep a hung socket from holding a confirmation.
 */
export const snsClientProvider: Provider = {
  provide: SNS_CLIENT,
  inject: [AppConfig],
  useFactory: (config: AppConfig) =>
    new SNSClient({
      region: config.aws.region,
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
    }),
};
