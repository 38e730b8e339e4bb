import { ConnectClient } from '@aws-sdk/client-connect';
import { ConnectParticipantClient } from '@aws-sdk/client-connectparticipant';
import { Test } from '@nestjs/testing';
import { AppConfig, ConfigModule } from '../config';
import { MetricsModule } from '../ops/metrics.module';
import { CONNECT_CLIENT, CONNECT_PARTICIPANT_CLIENT, ConnectGateway, ConnectModule } from './index';

describe('ConnectModule', () => {
  const config = AppConfig.fromEnv({
    AWS_REGION: 'ap-southeast-2',
    CONNECT_INSTANCE_ID: 'instance-1',
    CONNECT_CONTACT_FLOW_ID: 'flow-1',
    CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:ap-southeast-2:123456789012:chat-stream',
  });

  afterEach(() => jest.restoreAllMocks());

  it('provides the gateway over clients in the configured region, and closes them on shutdown', async () => {
    const destroyConnect = jest.spyOn(ConnectClient.prototype, 'destroy');
    const destroyParticipant = jest.spyOn(ConnectParticipantClient.prototype, 'destroy');
    const moduleRef = await Test.createTestingModule({
      imports: [ConfigModule.forRoot(config), MetricsModule, ConnectModule],
    }).compile();

    expect(moduleRef.get(ConnectGateway)).toBeInstanceOf(ConnectGateway);
    const connect = moduleRef.get<ConnectClient>(CONNECT_CLIENT);
    const participant = moduleRef.get<ConnectParticipantClient>(CONNECT_PARTICIPANT_CLIENT);
    await expect(connect.config.region()).resolves.toBe('ap-southeast-2');
    await expect(participant.config.region()).resolves.toBe('ap-southeast-2');

    await moduleRef.close();
    expect(destroyConnect).toHaveBeenCalledTimes(1);
    expect(destroyParticipant).toHaveBeenCalledTimes(1);
  });
});
