import { Injectable } from '@nestjs/common';
import type { ChannelAdapter } from './channel-adapter';
import { GenericChannel } from './generic/generic-channel';
import { TwilioChannel } from './twilio/twilio-channel';
import { WhatsAppChannel } from './whatsapp/whatsapp-channel';

/**
 * The adapter of a conversation's channel, by the provider before the colon: `twilio:sms` and
 * `twilio:whatsapp` → Twilio, `meta:whatsapp` → the WhatsApp Cloud API, `generic:<name>` → the
 * generic channel.
 */
@Injectable()
export class ChannelRegistry {
  private readonly byProvider: Record<string, ChannelAdapter & { readonly enabled: boolean }>;

  constructor(generic: GenericChannel, twilio: TwilioChannel, whatsapp: WhatsAppChannel) {
    this.byProvider = { generic, twilio, meta: whatsapp };
  }

  adapterFor(channel: string): ChannelAdapter {
    const provider = channel.slice(0, channel.indexOf(':'));
    const adapter = Object.hasOwn(this.byProvider, provider)
      ? this.byProvider[provider]
      : undefined;
    if (adapter?.enabled) return adapter;
    throw new Error(`no enabled channel for ${channel}`);
  }
}
