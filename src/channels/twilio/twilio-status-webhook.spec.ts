import {
  BUSINESS,
  CUSTOMER,
  changedFixture,
  signedTwilioRequest,
  twilioConfig,
  twilioFixture,
  twilioRequest,
} from '../../../test/fixtures/twilio/twilio-fixtures';
import { InvalidWebhookError } from '../channel-adapter';
import { TwilioStatusWebhook } from './twilio-status-webhook';

const STATUS_URL = '/webhooks/twilio/status';
const webhook = new TwilioStatusWebhook(twilioConfig());
const parse = (body: string) => webhook.parse(twilioRequest(body, STATUS_URL), 0);

describe('TwilioStatusWebhook', () => {
  it('checks the signature of the status URL', () => {
    const body = twilioFixture('status-delivered');
    const request = signedTwilioRequest(body, STATUS_URL);
    expect(webhook.verify(request)).toBe(true);
    expect(webhook.verify({ ...request, url: '/webhooks/twilio' })).toBe(false);
    expect(webhook.verify(twilioRequest(body, STATUS_URL))).toBe(false);
  });

  it('reads a delivery, the customer being the recipient', () => {
    expect(parse(twilioFixture('status-delivered'))).toEqual({
      messages: [],
      statuses: [
        {
          channel: 'twilio:sms',
          customerAddress: CUSTOMER,
          businessAddress: BUSINESS,
          providerMessageId: 'SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d',
          status: 'delivered',
        },
      ],
    });
  });

  it('says why a message was not delivered, by its error code', () => {
    expect(parse(twilioFixture('status-undelivered')).statuses).toEqual([
      {
        channel: 'twilio:sms',
        customerAddress: CUSTOMER,
        businessAddress: BUSINESS,
        providerMessageId: 'SM0f1e2d3c4b5a69788796a5b4c3d2e1f0',
        status: 'undelivered',
        reason: 'Twilio error 30003: Unreachable destination handset',
      },
    ]);
    expect(parse(twilioFixture('status-whatsapp-failed')).statuses).toEqual([
      {
        channel: 'twilio:whatsapp',
        customerAddress: CUSTOMER,
        businessAddress: BUSINESS,
        providerMessageId: 'SM4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a',
        status: 'failed',
        reason:
          'Twilio error 63016: Outside messaging window. For WhatsApp, use a Message Template instead',
      },
    ]);
  });

  it.each([
    [{ ErrorMessage: 'Carrier says no' }, 'Twilio error 30003: Carrier says no'],
    [{ ErrorCode: '30999' }, 'Twilio error 30999'],
    [
      { ErrorCode: '63024', ChannelStatusMessage: 'Invalid message recipient' },
      'Twilio error 63024: Invalid message recipient',
    ],
  ])('words the reason of %p as %p', (changes, reason) => {
    const [status] = parse(changedFixture('status-undelivered', changes)).statuses;
    expect(status.reason).toBe(reason);
  });

  it('gives no reason to a status that is not a failure', () => {
    const sent = changedFixture('status-undelivered', { MessageStatus: 'SENT' });
    expect(parse(sent).statuses[0]).not.toHaveProperty('reason');
    expect(parse(sent).statuses[0].status).toBe('sent');
  });

  it.each([
    [{ MessageSid: undefined }, 'MessageSid is required'],
    [{ MessageStatus: undefined }, 'MessageStatus is required'],
    [{ To: undefined }, 'To is required'],
    [{ AccountSid: `AC${'f'.repeat(32)}` }, 'AccountSid is not the configured Twilio account'],
  ])('refuses %p: %s', (changes, reason) => {
    const body = changedFixture('status-delivered', changes);
    expect(() => parse(body)).toThrow(InvalidWebhookError);
    expect(() => parse(body)).toThrow(reason);
  });
});
