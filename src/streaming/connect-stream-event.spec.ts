import { InvalidStreamEventError, isForCustomer, parseStreamEvent } from './connect-stream-event';

const item = (fields: Record<string, unknown> = {}) =>
  JSON.stringify({
    AbsoluteTime: '2026-11-21T10:00:00.000Z',
    Content: 'hello',
    ContentType: 'text/plain',
    Id: 'item-1',
    Type: 'MESSAGE',
    ParticipantId: 'p-1',
    DisplayName: 'Grace',
    ParticipantRole: 'AGENT',
    InitialContactId: 'initial-1',
    ContactId: 'contact-2',
    ...fields,
  });
const attributes = (fields: Record<string, string> = {}) => ({
  InitialContactId: 'initial-1',
  ContactId: 'contact-2',
  MessageVisibility: 'ALL',
  Type: 'MESSAGE',
  ParticipantRole: 'AGENT',
  ContentType: 'text/plain',
  InstanceId: 'instance',
  AccountId: '123456789012',
  ...fields,
});

describe('parseStreamEvent', () => {
  it('reads a message with its routing attributes', () => {
    expect(parseStreamEvent(item(), attributes())).toEqual({
      id: 'item-1',
      kind: 'message',
      contentType: 'text/plain',
      content: 'hello',
      participantRole: 'AGENT',
      displayName: 'Grace',
      visibility: 'ALL',
      initialContactId: 'initial-1',
      contactId: 'contact-2',
      absoluteTime: '2026-11-21T10:00:00.000Z',
      attachments: [],
    });
  });

  it.each([
    ['typing', 'typing'],
    ['participant.joined', 'participant-joined'],
    ['participant.left', 'participant-left'],
    ['transfer.succeeded', 'transfer-succeeded'],
    ['transfer.failed', 'transfer-failed'],
    ['chat.ended', 'chat-ended'],
    ['message.read', 'message-read'],
    ['something.new', 'other-event'],
  ])('tells the event %s apart', (suffix, kind) => {
    const contentType = `application/vnd.amazonaws.connect.event.${suffix}`;
    const event = parseStreamEvent(
      item({ Type: 'EVENT', ContentType: contentType, Content: undefined }),
      attributes(),
    );
    expect(event.kind).toBe(kind);
  });

  it('reads attachments and a chat.ended without a participant role', () => {
    const attachment = parseStreamEvent(
      item({
        Type: 'ATTACHMENT',
        ContentType: 'image/png',
        Content: undefined,
        Attachments: [
          {
            AttachmentId: 'a-1',
            AttachmentName: 'photo.png',
            ContentType: 'image/png',
            Status: 'APPROVED',
          },
        ],
      }),
      attributes({ Type: 'ATTACHMENT' }),
    );
    expect(attachment.kind).toBe('attachment');
    expect(attachment.attachments).toEqual([
      { attachmentId: 'a-1', name: 'photo.png', contentType: 'image/png', status: 'APPROVED' },
    ]);
    const ended = parseStreamEvent(
      item({
        Type: 'EVENT',
        ContentType: 'application/vnd.amazonaws.connect.event.chat.ended',
        ParticipantRole: undefined,
      }),
      { InitialContactId: 'initial-1', ContactId: 'contact-2', MessageVisibility: 'ALL' },
    );
    expect(ended.kind).toBe('chat-ended');
    expect(ended.participantRole).toBeUndefined();
  });

  it('takes the ids and the role from the signed body, not from the unsigned attributes', () => {
    const forged = parseStreamEvent(
      item(),
      attributes({ ParticipantRole: 'SYSTEM', InitialContactId: 'other', ContactId: 'other' }),
    );
    expect(forged).toMatchObject({
      initialContactId: 'initial-1',
      contactId: 'contact-2',
      participantRole: 'AGENT',
    });
    const event = parseStreamEvent(item(), { MessageVisibility: 'ALL' });
    expect(event).toMatchObject({
      initialContactId: 'initial-1',
      contactId: 'contact-2',
      participantRole: 'AGENT',
    });
  });

  it.each([
    ['not json', {}, 'not JSON'],
    [item({ Id: undefined }), attributes(), 'Id'],
    [item({ Type: 'SMOKE_SIGNAL' }), attributes(), 'Type'],
    [
      item({ InitialContactId: undefined, ContactId: undefined }),
      { MessageVisibility: 'ALL' },
      'InitialContactId',
    ],
  ])('refuses %s', (message, attrs, reason) => {
    expect(() => parseStreamEvent(message, attrs)).toThrow(InvalidStreamEventError);
    expect(() => parseStreamEvent(message, attrs)).toThrow(reason);
  });
});

describe('isForCustomer', () => {
  const event = (
    role: string | undefined,
    visibility: string | undefined,
    type = 'MESSAGE',
    contentType = 'text/plain',
  ) =>
    parseStreamEvent(
      item({ ParticipantRole: role, Type: type, ContentType: contentType }),
      Object.fromEntries(
        Object.entries({
          InitialContactId: 'i',
          ContactId: 'c',
          MessageVisibility: visibility,
        }).filter((entry): entry is [string, string] => entry[1] !== undefined),
      ),
    );

  it.each([
    ['AGENT', 'ALL', true],
    ['AGENT', 'CUSTOMER', true],
    ['AGENT', 'AGENT', false],
    ['SYSTEM', 'ALL', true],
    ['CUSTOM_BOT', 'CUSTOMER', true],
    ['CUSTOMER', 'ALL', false],
    ['CUSTOMER', 'CUSTOMER', false],
    ['AGENT', undefined, false],
  ])('a message from %s with visibility %s → %s', (role, visibility, expected) => {
    expect(isForCustomer(event(role, visibility))).toBe(expected);
  });

  it('forwards attachments but no events', () => {
    expect(isForCustomer(event('AGENT', 'ALL', 'ATTACHMENT', 'image/png'))).toBe(true);
    expect(
      isForCustomer(
        event('AGENT', 'ALL', 'EVENT', 'application/vnd.amazonaws.connect.event.typing'),
      ),
    ).toBe(false);
  });
});
