import { AppConfig } from '../config';
import { Metrics } from '../ops/metrics';
import { ChannelRegistry } from './channel-registry';
import { GenericChannel } from './generic/generic-channel';
import { TwilioChannel } from './twilio/twilio-channel';
import { WhatsAppChannel } from './whatsapp/whatsapp-channel';

const base = {
  AWS_REGION: 'us-east-1',
  CONNECT_INSTANCE_ID: 'i',
  CONNECT_CONTACT_FLOW_ID: 'f',
  CONNECT_STREAMING_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:t',
};
const everyChannel = {
  ...base,
  PUBLIC_BASE_URL: 'https://bridge.example.com',
  GENERIC_WEBHOOK_SECRET: 'a-generic-secret-of-length',
  TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
  TWILIO_AUTH_TOKEN: 'twilio-token',
  WHATSAPP_ACCESS_TOKEN: 'meta-token',
  WHATSAPP_APP_SECRET: 'meta-secret',
  WHATSAPP_VERIFY_TOKEN: 'meta-verify',
};

function registryFor(env: Record<string, string>) {
  const config = AppConfig.fromEnv(env);
  const adapters = {
    generic: new GenericChannel(config),
    twilio: new TwilioChannel(config),
    whatsapp: new WhatsAppChannel(config, new Metrics()),
  };
  return {
    adapters,
    registry: new ChannelRegistry(adapters.generic, adapters.twilio, adapters.whatsapp),
  };
}

describe('ChannelRegistry', () => {
  it('finds each conversation channel by its provider', () => {
    const { adapters, registry } = registryFor(everyChannel);
    expect(registry.adapterFor('generic:app')).toBe(adapters.generic);
    expect(registry.adapterFor('twilio:sms')).toBe(adapters.twilio);
    expect(registry.adapterFor('twilio:whatsapp')).toBe(adapters.twilio);
    expect(registry.adapterFor('meta:whatsapp')).toBe(adapters.whatsapp);
  });

  it.each(['carrier-pigeon', 'sms', 'toString:x', 'pigeon:sms'])(
    'knows nothing of %p',
    (channel) => {
      expect(() => registryFor(everyChannel).registry.adapterFor(channel)).toThrow(
        `no enabled channel for ${channel}`,
      );
    },
  );

  it('refuses the channels whose credentials are not configured', () => {
    const { registry } = registryFor(base);
    for (const channel of ['generic:app', 'twilio:sms', 'meta:whatsapp']) {
      expect(() => registry.adapterFor(channel)).toThrow(`no enabled channel for ${channel}`);
    }
  });
});
