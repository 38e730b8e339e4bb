import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InboundMessage } from '../../relay';
import { InvalidWebhookError } from '../channel-adapter';
import { parseWhatsAppWebhook } from './whatsapp-webhook-parser';

const RECEIVED_AT = 1_750_000_000_000;
const PHONE_NUMBER_ID = '106540352242922';

type Body = {
  entry: { changes: { field: string; value: Record<string, unknown[]> }[] }[];
};
const fixture = (name: string): Body =>
  JSON.parse(
    readFileSync(join(__dirname, '../../../test/fixtures/whatsapp', `${name}.json`), 'utf8'),
  ) as Body;

function parse(body: unknown) {
  const skip = jest.fn<void, [string]>();
  return { ...parseWhatsAppWebhook(body, RECEIVED_AT, skip), skip };
}

/** The text fixture with its message replaced by `content` from the same sender. */
function withMessage(content: Record<string, unknown>): Body {
  const body = fixture('text');
  const { value } = body.entry[0].changes[0];
  value.messages = [{ from: '16505551234', id: 'wamid.A1', timestamp: '1750000000', ...content }];
  return body;
}

/** A message from the documented customer to the documented business number. */
const fromSheena = (
  providerMessageId: string,
  content: Pick<InboundMessage, 'attachments'> & { text?: string },
): InboundMessage => ({
  channel: 'meta:whatsapp',
  providerMessageId,
  customerAddress: '+16505551234',
  businessAddress: PHONE_NUMBER_ID,
  displayName: 'Sheena Nelson',
  ...content,
  receivedAt: RECEIVED_AT,
});

const notice = (type: string) =>
  `The customer sent a WhatsApp message that cannot be shown here (type: ${type}).`;

describe('parseWhatsAppWebhook', () => {
  it.each<[string, InboundMessage]>([
    [
      'text',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=', {
        text: 'Does it come in another color?',
        attachments: [],
      }),
    ],
    [
      'image',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA=', {
        text: 'The scratch on the lid',
        attachments: [{ source: '1003383421387256', contentType: 'image/jpeg' }],
      }),
    ],
    [
      'document',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUQ0N0VFMDA2MTQ0RkJFNkNDNAA=', {
        text: 'My receipt',
        attachments: [
          {
            source: '1090713019485021',
            contentType: 'application/pdf',
            name: 'receipt-2025-06.pdf',
          },
        ],
      }),
    ],
    [
      'audio',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTlGNjA0QjIzRjJGRDQ1MkE1NQA=', {
        attachments: [{ source: '1684294752178212', contentType: 'audio/ogg; codecs=opus' }],
      }),
    ],
    [
      'video',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUJFNzM4MEYyOTQ4NDZCRDY5MAA=', {
        text: 'It rattles like this',
        attachments: [{ source: '1219183986272542', contentType: 'video/mp4' }],
      }),
    ],
    [
      'sticker',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTgwMDBCRkRDQ0ZEMUUyNjMwNAA=', {
        attachments: [{ source: '1391240745253733', contentType: 'image/webp' }],
      }),
    ],
    [
      'interactive-button-reply',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTNBRDZCNjI0M0Y5NEQyQjQ5OQA=', {
        text: 'Cancel',
        attachments: [],
      }),
    ],
    [
      'interactive-list-reply',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTc3NDM1NjQ5QkY5QTg3NTYwMwA=', {
        text: 'Priority Mail Express — Next Day to 2 Days',
        attachments: [],
      }),
    ],
    [
      'button',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUY5QjYyQkJEMjZBMDRBQzRDRgA=', {
        text: 'Talk to an agent',
        attachments: [],
      }),
    ],
    [
      'location',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTFBQjM2NzMxMkU0OUZDOTBBNQA=', {
        text:
          'Shared a location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 ' +
          '(37.44221496582, -122.16161346436) ' +
          'https://www.google.com/maps/search/?api=1&query=37.44221496582,-122.16161346436',
        attachments: [],
      }),
    ],
    [
      'reaction',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUE3QjdDNkYxNjc0NzI5QjQ0MQA=', {
        text: 'Reacted 👍 to a message',
        attachments: [],
      }),
    ],
    [
      'contacts',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUM4QjNFQkQ5NDM3NjA2N0Q3MgA=', {
        text: 'Shared a contact: Barbara J. Johnson (+1 (940) 555-1234, bjohnson@example.com)',
        attachments: [],
      }),
    ],
    [
      'unsupported',
      fromSheena('wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQUU2RTNCMkUzMTg2NTU3RkMzNAA=', {
        text: notice('poll_creation'),
        attachments: [],
      }),
    ],
  ])('reads the %s fixture', (name, expected) => {
    const { messages, statuses, skip } = parse(fixture(name));
    expect(messages).toStrictEqual([expected]);
    expect(statuses).toEqual([]);
    expect(skip).not.toHaveBeenCalled();
  });

  it('reads a delivered status', () => {
    const { messages, statuses } = parse(fixture('status-delivered'));
    expect(messages).toEqual([]);
    expect(statuses).toStrictEqual([
      {
        channel: 'meta:whatsapp',
        customerAddress: '+16505551234',
        businessAddress: PHONE_NUMBER_ID,
        providerMessageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA',
        status: 'delivered',
      },
    ]);
  });

  it('reads a failed status with the error code, title and details', () => {
    expect(parse(fixture('status-failed')).statuses).toStrictEqual([
      {
        channel: 'meta:whatsapp',
        customerAddress: '+16505551234',
        businessAddress: PHONE_NUMBER_ID,
        providerMessageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJCMzE0RjY1RUI3MTlEQzM0NjkA',
        status: 'failed',
        reason:
          'WhatsApp error 131047: Re-engagement message — Message failed to send because more ' +
          'than 24 hours have passed since the customer last replied to this number.',
      },
    ]);
  });

  it('reads every entry and change of a batch, each message with its own phone number id', () => {
    const { messages, statuses, skip } = parse(fixture('multi-entry-batch'));
    expect(messages).toStrictEqual([
      {
        providerMessageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDEA',
        channel: 'meta:whatsapp',
        customerAddress: '+16505551234',
        businessAddress: PHONE_NUMBER_ID,
        displayName: 'Sheena Nelson',
        text: 'Hello, is anyone there?',
        attachments: [],
        receivedAt: RECEIVED_AT,
      },
      {
        providerMessageId: 'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0JBVENIMDAwMDAwMDAwMDAwMgA=',
        channel: 'meta:whatsapp',
        customerAddress: '+447700900123',
        businessAddress: PHONE_NUMBER_ID,
        displayName: 'Ravi Kumar',
        attachments: [{ source: '2621233374848975', contentType: 'image/png' }],
        receivedAt: RECEIVED_AT,
      },
      {
        providerMessageId: 'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDMA',
        channel: 'meta:whatsapp',
        customerAddress: '+16505551234',
        businessAddress: PHONE_NUMBER_ID,
        displayName: 'Sheena Nelson',
        text: notice('order'),
        attachments: [],
        receivedAt: RECEIVED_AT,
      },
      {
        providerMessageId: 'wamid.HBgLNjAxNzM1MjYyMzMVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDQA',
        channel: 'meta:whatsapp',
        customerAddress: '+60173526233',
        businessAddress: '109876543210987',
        displayName: 'Lee Jen Ling',
        text: 'Can I change my delivery address?',
        attachments: [],
        receivedAt: RECEIVED_AT,
      },
    ]);
    expect(statuses).toStrictEqual([
      {
        channel: 'meta:whatsapp',
        customerAddress: '+60173526233',
        businessAddress: '109876543210987',
        providerMessageId: 'wamid.HBgLNjAxNzM1MjYyMzMVAgARGBJCQVRDSDAwMDAwMDAwMDAwNQA=',
        status: 'read',
      },
    ]);
    expect(skip).not.toHaveBeenCalled();
  });

  it.each<[string, { type: string } & Record<string, unknown>]>([
    ['a type it does not know', { type: 'poll', poll: { question: '?' } }],
    ['an image without a media id', { type: 'image', image: { mime_type: 'image/jpeg' } }],
    ['a text without a body', { type: 'text', text: {} }],
    ['an interactive flow reply', { type: 'interactive', interactive: { type: 'nfm_reply' } }],
    ['an unsupported message without its type', { type: 'unsupported' }],
    [
      'a media id that could change a URL',
      { type: 'image', image: { id: '../me', mime_type: 'a/b' } },
    ],
  ])('turns %s into a notice for the agent', (_, content) => {
    const { messages, skip } = parse(withMessage(content));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: notice(content.type), attachments: [] });
    expect(skip).not.toHaveBeenCalled();
  });

  it('names no odd type in the notice', () => {
    expect(parse(withMessage({ type: '<b>odd</b>' })).messages[0].text).toBe(notice('unknown'));
  });

  it('says when the customer took a reaction back', () => {
    const reaction = { type: 'reaction', reaction: { message_id: 'wamid.B2' } };
    expect(parse(withMessage(reaction)).messages[0].text).toBe('Removed a reaction from a message');
  });

  it('keeps the rest of a batch when one message or status cannot be addressed', () => {
    const body = fixture('multi-entry-batch');
    const value = body.entry[0].changes[0].value;
    delete (value.messages[0] as { from?: string }).from;
    (body.entry[1].changes[1].value.statuses[0] as { recipient_id: string }).recipient_id = '';
    const { messages, statuses, skip } = parse(body);
    expect(messages.map((message) => message.providerMessageId)).toEqual([
      'wamid.HBgMNDQ3NzAwOTAwMTIzFQIAEhgUM0JBVENIMDAwMDAwMDAwMDAwMgA=',
      'wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDMA',
      'wamid.HBgLNjAxNzM1MjYyMzMVAgASGBQzQkFUQ0gwMDAwMDAwMDAwMDQA',
    ]);
    expect(statuses).toEqual([]);
    expect(skip.mock.calls).toEqual([
      [expect.stringMatching(/^a message: from: /)],
      [expect.stringMatching(/^a status: recipient_id: /)],
    ]);
  });

  it('leaves out a change without a phone number id and keeps the other changes', () => {
    const body = fixture('multi-entry-batch');
    delete body.entry[0].changes[0].value.metadata;
    const { messages, statuses, skip } = parse(body);
    expect(messages.map((message) => message.businessAddress)).toEqual(['109876543210987']);
    expect(statuses).toHaveLength(1);
    expect(skip).toHaveBeenCalledWith(expect.stringMatching(/^a messages change: metadata: /));
  });

  it('reads only the messages field', () => {
    const body = fixture('text');
    body.entry[0].changes[0].field = 'message_template_status_update';
    expect(parse(body)).toMatchObject({ messages: [], statuses: [] });
  });

  it('leaves the display name out when the sender is not among the contacts', () => {
    const body = fixture('text');
    body.entry[0].changes[0].value.contacts = [];
    const [message] = parse(body).messages;
    expect(message).not.toHaveProperty('displayName');
    expect(message.customerAddress).toBe('+16505551234');
  });

  it.each<[string, unknown, string]>([
    ['another object', { object: 'page', entry: [] }, 'object'],
    ['no entry', { object: 'whatsapp_business_account' }, 'entry'],
    ['an entry that is no array', { object: 'whatsapp_business_account', entry: {} }, 'entry'],
    ['entries without changes', { object: 'whatsapp_business_account', entry: [{}] }, 'changes'],
    ['no object at all', null, 'body'],
  ])('refuses %s', (_, body, reason) => {
    expect(() => parse(body)).toThrow(InvalidWebhookError);
    expect(() => parse(body)).toThrow(reason);
  });
});
