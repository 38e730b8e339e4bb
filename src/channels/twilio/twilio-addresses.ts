import type { ConversationKey } from '../../conversations';

const WHATSAPP_PREFIX = 'whatsapp:';
const WHATSAPP_CHANNEL = 'twilio:whatsapp';
const SMS_CHANNEL = 'twilio:sms';

const withoutPrefix = (address: string) =>
  address.startsWith(WHATSAPP_PREFIX) ? address.slice(WHATSAPP_PREFIX.length) : address;

/**
 * The conversation of two Twilio addresses: `twilio:whatsapp` when the customer's has the
 * `whatsapp:` prefix, else `twilio:sms`. Addresses are kept without the prefix, so that one
 * E.164 number reads the same on every channel.
 */
export function conversationKeyOf(customer: string, business: string): ConversationKey {
  return {
    channel: customer.startsWith(WHATSAPP_PREFIX) ? WHATSAPP_CHANNEL : SMS_CHANNEL,
    customerAddress: withoutPrefix(customer),
    businessAddress: withoutPrefix(business),
  };
}

/** The address as Twilio's API wants it for the channel: prefixed again for WhatsApp. */
export function twilioAddress(channel: string, address: string): string {
  return channel === WHATSAPP_CHANNEL ? `${WHATSAPP_PREFIX}${address}` : address;
}
