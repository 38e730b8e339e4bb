import { randomBytes, randomUUID } from 'node:crypto';
import { ConnectErrors, ParticipantErrors } from './aws-error';
import { IdempotencyCache } from './idempotency';
import {
  type AttachmentRef,
  type ChatItem,
  type Contact,
  EVENT,
  type ItemType,
  type Participant,
  type ParticipantRole,
  type StoredAttachment,
  type Visibility,
} from './model';
import { RequestReader } from './validation';

export interface ContactCenterOptions {
  instanceId: string;
  contactFlowIds: string[];
  /** CreateParticipantConnection must come within this time of StartChatContact. */
  connectWindowMs: number;
  connectionTokenTtlMs: number;
  maxActiveChats: number;
  maxAttachmentBytes: number;
  attachmentContentTypes: string[];
  /** SYSTEM messages the contact flow sends once the customer is connected. */
  flowMessages: string[];
  publicUrl: () => string;
  topicExists: (arn: string) => boolean;
  /** Called for every new chat item, once per streaming endpoint of its contact. */
  stream: (topicArn: string, item: ChatItem, contact: Contact) => void;
  now: () => number;
}

const CHAT_CONTENT_TYPES = [
  'text/plain',
  'text/markdown',
  'application/json',
  'application/vnd.amazonaws.connect.message.interactive',
  'application/vnd.amazonaws.connect.message.interactive.response',
];
const PARTICIPANT_MESSAGE_TYPES = [
  'text/plain',
  'text/markdown',
  'application/json',
  'application/vnd.amazonaws.connect.message.interactive.response',
];
const PARTICIPANT_EVENT_TYPES = [
  EVENT.typing,
  EVENT.connectionAcknowledged,
  EVENT.messageDelivered,
  EVENT.messageRead,
];
const CONNECTION_TYPES = ['WEBSOCKET', 'CONNECTION_CREDENTIALS', 'WEBRTC_CONNECTION'] as const;
const MAX_STREAMING_ENDPOINTS = 2;
const MAX_ATTRIBUTES_BYTES = 32 * 1024;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

const connectInvalid = ConnectErrors.invalidParameter;
const participantInvalid = ParticipantErrors.validation;

interface Session {
  contact: Contact;
  participant: Participant;
}

const token = () => randomBytes(48).toString('base64url');
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The state and rules of Amazon Connect chat as the emulator plays them: contacts, participants,
 * tokens, transcripts, streaming and attachments. Operations take the request body as sent and
 * answer the response body, or throw the service's AwsError.
 */
export class ContactCenter {
  private readonly contacts = new Map<string, Contact>();
  private readonly attachments = new Map<string, StoredAttachment>();
  private readonly idempotency = new IdempotencyCache();

  private lastItemAt = 0;

  constructor(private readonly options: ContactCenterOptions) {}

  // ---- Amazon Connect ----

  startChatContact(body: unknown) {
    const request = RequestReader.of(body, connectInvalid);
    const instanceId = this.instance(request);
    const contactFlowId = request.string('ContactFlowId', { max: 500 });
    const displayName = request.object('ParticipantDetails').string('DisplayName', { max: 256 });
    const attributes = request.optionalStringMap('Attributes') ?? {};
    const durationMinutes =
      request.optionalNumber('ChatDurationInMinutes', { min: 60, max: 10_080 }) ?? 1_500;
    const supported = request.optionalStringList('SupportedMessagingContentTypes') ?? [
      'text/plain',
    ];
    const initial = request.optionalObject('InitialMessage');
    const persistent = request.optionalObject('PersistentChat');
    const clientToken = request.optionalString('ClientToken', { max: 500 });

    return this.idempotency.run('StartChatContact', instanceId, clientToken, () => {
      if (!this.options.contactFlowIds.includes(contactFlowId)) {
        throw ConnectErrors.resourceNotFound(`Contact flow not found: ${contactFlowId}`);
      }
      if (Buffer.byteLength(JSON.stringify(attributes)) > MAX_ATTRIBUTES_BYTES) {
        throw connectInvalid('Attributes exceed the 32 KB limit');
      }
      if (
        !supported.includes('text/plain') ||
        supported.some((type) => !CHAT_CONTENT_TYPES.includes(type))
      ) {
        throw connectInvalid(
          `SupportedMessagingContentTypes must include text/plain and only: ${CHAT_CONTENT_TYPES.join(', ')}`,
        );
      }
      if (this.activeContacts() >= this.options.maxActiveChats) {
        throw ConnectErrors.limitExceeded('The concurrent active chat limit has been reached');
      }
      const persistentChat = persistent && this.persistentSource(persistent);
      const now = this.options.now();
      const contactId = randomUUID();
      const customer = this.newParticipant('CUSTOMER', displayName);
      customer.participantToken = token();
      const contact: Contact = {
        initialContactId: contactId,
        contactId,
        contactIds: [contactId],
        instanceId,
        contactFlowId,
        createdAt: now,
        endsAt: now + durationMinutes * 60_000,
        attributes,
        supportedContentTypes: supported,
        persistentChat,
        participants: [customer],
        streaming: new Map(),
        transcript: [],
      };
      this.contacts.set(contactId, contact);
      if (initial) {
        const contentType = initial.string('ContentType', { max: 100 });
        const content = initial.string('Content', { max: 1024 });
        this.append(contact, customer, 'MESSAGE', contentType, content);
      }
      return {
        ContactId: contactId,
        ParticipantId: customer.participantId,
        ParticipantToken: customer.participantToken,
        ...(persistentChat ? { ContinuedFromContactId: persistentChat.SourceContactId } : {}),
      };
    });
  }

  startContactStreaming(body: unknown) {
    const request = RequestReader.of(body, connectInvalid);
    const instanceId = this.instance(request);
    const contactId = request.string('ContactId', { max: 256 });
    const arn = request
      .object('ChatStreamingConfiguration')
      .string('StreamingEndpointArn', { max: 350 });
    const clientToken = request.string('ClientToken', { max: 500 });

    return this.idempotency.run('StartContactStreaming', instanceId, clientToken, () => {
      const contact = this.connectContact(contactId);
      if (!TOPIC_ARN.test(arn)) {
        throw connectInvalid('StreamingEndpointArn must be the ARN of a standard SNS topic');
      }
      if (!this.options.topicExists(arn)) {
        throw ConnectErrors.invalidRequest(`The streaming endpoint does not exist: ${arn}`);
      }
      const existing = [...contact.streaming].find(([, topic]) => topic === arn);
      if (existing) return { StreamingId: existing[0] };
      if (contact.streaming.size >= MAX_STREAMING_ENDPOINTS) {
        throw ConnectErrors.limitExceeded('A contact can stream to at most 2 endpoints');
      }
      const streamingId = randomUUID();
      contact.streaming.set(streamingId, arn);
      return { StreamingId: streamingId };
    });
  }

  stopContactStreaming(body: unknown) {
    const request = RequestReader.of(body, connectInvalid);
    this.instance(request);
    const contact = this.connectContact(request.string('ContactId', { max: 256 }));
    const streamingId = request.string('StreamingId', { max: 100 });
    if (!contact.streaming.delete(streamingId)) {
      throw ConnectErrors.resourceNotFound(`Streaming not found: ${streamingId}`);
    }
    return {};
  }

  // ---- Participant Service ----

  createParticipantConnection(participantToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const types = request.optionalStringList('Type') ?? [];
    const connect = request.optionalBoolean('ConnectParticipant') ?? false;
    for (const type of types) {
      if (!CONNECTION_TYPES.includes(type as (typeof CONNECTION_TYPES)[number])) {
        throw participantInvalid(`Type must be one of ${CONNECTION_TYPES.join(', ')}`);
      }
    }
    if (types.length === 0 && !connect) {
      throw participantInvalid('Type is required unless ConnectParticipant is true');
    }
    const session = this.byParticipantToken(participantToken);
    const { contact, participant } = session;
    const now = this.options.now();
    if (connect && !participant.connected) {
      if (participant.role === 'CUSTOMER' && contact.streaming.size === 0) {
        throw participantInvalid(
          'ConnectParticipant for a customer without a websocket needs contact streaming: call StartContactStreaming first',
        );
      }
      if (now > contact.createdAt + this.options.connectWindowMs) {
        this.end(contact);
        throw ParticipantErrors.accessDenied(
          'The participant did not connect within the connect window; the contact has ended',
        );
      }
      participant.connected = true;
      this.append(contact, participant, 'EVENT', EVENT.participantJoined);
      if (participant.role === 'CUSTOMER') {
        for (const message of this.options.flowMessages)
          this.systemMessage(contact.contactId, message);
      }
    }
    const response: Record<string, unknown> = {};
    if (types.includes('CONNECTION_CREDENTIALS')) {
      const credential = { token: token(), expiresAt: now + this.options.connectionTokenTtlMs };
      participant.connections.push(credential);
      response.ConnectionCredentials = {
        ConnectionToken: credential.token,
        Expiry: iso(credential.expiresAt),
      };
    }
    if (types.includes('WEBSOCKET')) {
      const url = this.options.publicUrl().replace(/^http/, 'ws');
      response.Websocket = {
        Url: `${url}/_emulator/websocket/${participant.participantId}`,
        ConnectionExpiry: iso(now + this.options.connectionTokenTtlMs),
      };
    }
    if (types.includes('WEBRTC_CONNECTION')) {
      response.WebRTCConnection = {
        Attendee: { AttendeeId: randomUUID(), JoinToken: token() },
        Meeting: { MeetingId: randomUUID(), MediaRegion: 'us-east-1', MediaPlacement: {} },
      };
    }
    return response;
  }

  sendMessage(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const contentType = request.string('ContentType', { max: 100 });
    const content = request.string('Content', { max: 16_384 });
    const clientToken = request.optionalString('ClientToken', { max: 500 });
    const { contact, participant } = this.byConnectionToken(connectionToken);
    return this.idempotency.run('SendMessage', participant.participantId, clientToken, () => {
      if (!PARTICIPANT_MESSAGE_TYPES.includes(contentType)) {
        throw participantInvalid(`ContentType ${contentType} is not supported`);
      }
      if (!contact.supportedContentTypes.includes(contentType)) {
        throw participantInvalid(`ContentType ${contentType} is not supported by this contact`);
      }
      const limit = contentType.startsWith('text/') ? 1024 : 12_000;
      if (content.length > limit) {
        throw participantInvalid(
          `Content for ${contentType} must be at most ${limit} characters (got ${content.length})`,
        );
      }
      const item = this.append(contact, participant, 'MESSAGE', contentType, content);
      return { Id: item.Id, AbsoluteTime: item.AbsoluteTime };
    });
  }

  sendEvent(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const contentType = request.string('ContentType', { max: 100 });
    const content = request.optionalString('Content', { max: 1024 });
    const clientToken = request.optionalString('ClientToken', { max: 500 });
    const { contact, participant } = this.byConnectionToken(connectionToken);
    return this.idempotency.run('SendEvent', participant.participantId, clientToken, () => {
      if (!(PARTICIPANT_EVENT_TYPES as string[]).includes(contentType)) {
        throw participantInvalid(`ContentType ${contentType} is not a participant event`);
      }
      const item = this.append(contact, participant, 'EVENT', contentType, content);
      return { Id: item.Id, AbsoluteTime: item.AbsoluteTime };
    });
  }

  disconnectParticipant(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const clientToken = request.optionalString('ClientToken', { max: 500 });
    const session = this.byConnectionToken(connectionToken);
    const scope = session.participant.participantId;
    return this.idempotency.run('DisconnectParticipant', scope, clientToken, () => {
      this.leave(session.contact, session.participant);
      if (session.participant.role === 'CUSTOMER') this.end(session.contact);
      return {};
    });
  }

  startAttachmentUpload(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const contentType = request.string('ContentType', { max: 255 });
    const size = request.optionalNumber('AttachmentSizeInBytes', {
      min: 1,
      max: Number.MAX_SAFE_INTEGER,
    });
    if (size === undefined) throw participantInvalid('AttachmentSizeInBytes is required');
    const name = request.string('AttachmentName', { max: 256 });
    const clientToken = request.string('ClientToken', { max: 500 });
    const { contact, participant } = this.byConnectionToken(connectionToken);
    const scope = participant.participantId;
    return this.idempotency.run('StartAttachmentUpload', scope, clientToken, () => {
      if (!this.options.attachmentContentTypes.includes(contentType)) {
        throw participantInvalid(`Attachments of type ${contentType} are not supported`);
      }
      if (size > this.options.maxAttachmentBytes) {
        throw ParticipantErrors.quotaExceeded(
          `Attachments are limited to ${this.options.maxAttachmentBytes} bytes`,
        );
      }
      const attachment = this.newAttachment(contact, participant, { name, contentType, size });
      return {
        AttachmentId: attachment.attachmentId,
        UploadMetadata: {
          Url: `${this.options.publicUrl()}/_emulator/uploads/${attachment.attachmentId}`,
          UrlExpiry: iso(this.options.now() + 5 * 60_000),
          HeadersToInclude: { 'Content-Type': contentType },
        },
      };
    });
  }

  /** The PUT on the pre-signed upload URL. */
  upload(attachmentId: string, contentType: string | undefined, content: Buffer): void {
    const attachment = this.attachments.get(attachmentId);
    if (!attachment || attachment.completed) throw new Error('no upload pending for this URL');
    if (contentType !== attachment.contentType) {
      throw new Error(`Content-Type must be ${attachment.contentType}, as HeadersToInclude says`);
    }
    attachment.content = content;
  }

  completeAttachmentUpload(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const ids = request.optionalStringList('AttachmentIds');
    if (!ids || ids.length !== 1) throw participantInvalid('AttachmentIds must hold one id');
    const clientToken = request.string('ClientToken', { max: 500 });
    const { contact, participant } = this.byConnectionToken(connectionToken);
    const scope = participant.participantId;
    return this.idempotency.run('CompleteAttachmentUpload', scope, clientToken, () => {
      const attachment = this.attachments.get(ids[0]);
      if (!attachment || attachment.participantId !== participant.participantId) {
        throw ParticipantErrors.resourceNotFound(`Attachment not found: ${ids[0]}`);
      }
      if (!attachment.content || attachment.content.length !== attachment.sizeInBytes) {
        throw participantInvalid(
          `The upload of ${attachment.attachmentId} is missing or its size differs from AttachmentSizeInBytes`,
        );
      }
      this.completeAttachment(contact, participant, attachment);
      return {};
    });
  }

  getAttachment(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const attachmentId = request.string('AttachmentId', { max: 256 });
    const { contact } = this.byConnectionToken(connectionToken);
    const attachment = this.attachments.get(attachmentId);
    if (
      !attachment ||
      attachment.initialContactId !== contact.initialContactId ||
      !attachment.completed
    ) {
      throw ParticipantErrors.resourceNotFound(`Attachment not found: ${attachmentId}`);
    }
    return {
      Url: `${this.options.publicUrl()}/_emulator/downloads/${attachmentId}`,
      UrlExpiry: iso(this.options.now() + 5 * 60_000),
      AttachmentSizeInBytes: attachment.sizeInBytes,
    };
  }

  /** The GET on a download URL. */
  download(attachmentId: string): StoredAttachment | undefined {
    const attachment = this.attachments.get(attachmentId);
    return attachment?.completed ? attachment : undefined;
  }

  /**
   * The transcript as the participant sees it (a customer does not see AGENT-only items): from
   * StartPosition (Id or AbsoluteTime, not included; MostRecent by default) in ScanDirection
   * (BACKWARD by default), at most MaxResults (15) items, in SortOrder (ASCENDING by default).
   */
  getTranscript(connectionToken: string | undefined, body: unknown) {
    const request = RequestReader.of(body, participantInvalid);
    const maxResults = request.optionalNumber('MaxResults', { min: 0, max: 100 }) ?? 15;
    const direction = request.optionalString('ScanDirection') ?? 'BACKWARD';
    const order = request.optionalString('SortOrder') ?? 'ASCENDING';
    if (!['FORWARD', 'BACKWARD'].includes(direction)) {
      throw participantInvalid(`ScanDirection must be FORWARD or BACKWARD`);
    }
    if (!['ASCENDING', 'DESCENDING'].includes(order)) {
      throw participantInvalid(`SortOrder must be ASCENDING or DESCENDING`);
    }
    const start = request.optionalObject('StartPosition');
    const { contact, participant } = this.byConnectionToken(connectionToken);
    const visible = contact.transcript.filter(
      (item) => participant.role !== 'CUSTOMER' || item.visibility !== 'AGENT',
    );
    const startId = start?.optionalString('Id');
    const startTime = start?.optionalString('AbsoluteTime');
    let from = direction === 'BACKWARD' ? visible.length : -1;
    if (startId !== undefined) {
      from = visible.findIndex((item) => item.Id === startId);
      if (from < 0) throw ParticipantErrors.resourceNotFound(`Item not found: ${startId}`);
    } else if (startTime !== undefined) {
      const at = Date.parse(startTime);
      from =
        direction === 'BACKWARD'
          ? visible.findIndex((item) => Date.parse(item.AbsoluteTime) >= at)
          : visible.findLastIndex((item) => Date.parse(item.AbsoluteTime) <= at);
      if (from < 0) from = direction === 'BACKWARD' ? visible.length : -1;
    }
    const page =
      direction === 'BACKWARD'
        ? visible.slice(Math.max(0, from - maxResults), from)
        : visible.slice(from + 1, from + 1 + maxResults);
    const items = page.map(({ visibility: _visibility, ...item }) => item);
    if (order === 'DESCENDING') items.reverse();
    return { InitialContactId: contact.initialContactId, Transcript: items };
  }

  // ---- The agent's side, for tests and the sandbox ----

  agentJoin(contactId: string, displayName = 'Agent'): Participant {
    const contact = this.activeContact(contactId);
    const agent = this.newParticipant('AGENT', displayName);
    agent.connected = true;
    contact.participants.push(agent);
    this.append(contact, agent, 'EVENT', EVENT.participantJoined);
    return agent;
  }

  agentMessage(
    contactId: string,
    message: {
      content: string;
      contentType?: string;
      visibility?: Visibility;
      role?: ParticipantRole;
    },
  ): ChatItem {
    const contact = this.activeContact(contactId);
    const sender = this.speaker(contact, message.role ?? 'AGENT');
    return this.append(
      contact,
      sender,
      'MESSAGE',
      message.contentType ?? 'text/plain',
      message.content,
      message.visibility ?? 'ALL',
    );
  }

  agentAttachment(contactId: string, file: { name: string; contentType: string; content: Buffer }) {
    const contact = this.activeContact(contactId);
    const agent = this.speaker(contact, 'AGENT');
    const attachment = this.newAttachment(contact, agent, { ...file, size: file.content.length });
    return this.completeAttachment(contact, agent, attachment);
  }

  agentTyping(contactId: string): ChatItem {
    const contact = this.activeContact(contactId);
    return this.append(contact, this.speaker(contact, 'AGENT'), 'EVENT', EVENT.typing);
  }

  agentLeave(contactId: string): void {
    const contact = this.activeContact(contactId);
    for (const agent of contact.participants.filter((p) => p.role === 'AGENT' && !p.left)) {
      this.leave(contact, agent);
    }
  }

  /** A transfer: agents leave, the contact gets a new ContactId, the InitialContactId stays. */
  transfer(contactId: string): string {
    const contact = this.activeContact(contactId);
    this.agentLeave(contactId);
    const next = randomUUID();
    contact.contactId = next;
    contact.contactIds.push(next);
    this.contacts.set(next, contact);
    this.append(contact, this.speaker(contact, 'SYSTEM'), 'EVENT', EVENT.transferSucceeded);
    return next;
  }

  systemMessage(contactId: string, content: string, visibility: Visibility = 'ALL'): ChatItem {
    const contact = this.activeContact(contactId);
    return this.append(
      contact,
      this.speaker(contact, 'SYSTEM'),
      'MESSAGE',
      'text/plain',
      content,
      visibility,
    );
  }

  endChat(contactId: string): void {
    this.end(this.activeContact(contactId));
  }

  /** Early expiry: every connection token of the contact's participants stops working now. */
  expireCredentials(contactId: string): number {
    const contact = this.findContact(contactId);
    let expired = 0;
    for (const participant of contact.participants) {
      for (const credential of participant.connections) {
        credential.expiresAt = Math.min(credential.expiresAt, this.options.now() - 1);
        expired += 1;
      }
    }
    return expired;
  }

  /** Streams a transcript item again: SNS delivering it late, after attempts that failed. */
  restream(contactId: string, itemId: string): void {
    const contact = this.findContact(contactId);
    const item = contact.transcript.find((candidate) => candidate.Id === itemId);
    if (!item) throw ConnectErrors.resourceNotFound(`No item ${itemId} in contact ${contactId}`);
    for (const topicArn of contact.streaming.values()) this.options.stream(topicArn, item, contact);
  }

  // ---- Inspection ----

  list(): Contact[] {
    return [...new Set(this.contacts.values())];
  }

  findContact(contactId: string): Contact {
    const contact = this.contacts.get(contactId);
    if (!contact) throw ConnectErrors.resourceNotFound(`Contact not found: ${contactId}`);
    this.expireIfOverdue(contact);
    return contact;
  }

  reset(): void {
    this.contacts.clear();
    this.attachments.clear();
    this.idempotency.clear();
  }

  // ---- internals ----

  private instance(request: RequestReader): string {
    const instanceId = request.string('InstanceId', { max: 100 });
    if (instanceId !== this.options.instanceId) {
      throw ConnectErrors.resourceNotFound(`Instance not found: ${instanceId}`);
    }
    return instanceId;
  }

  private connectContact(contactId: string): Contact {
    const contact = this.findContact(contactId);
    if (contact.endedAt !== undefined) {
      throw ConnectErrors.invalidRequest(`Contact ${contactId} is not active`);
    }
    return contact;
  }

  private activeContact(contactId: string): Contact {
    return this.connectContact(contactId);
  }

  private persistentSource(persistent: RequestReader) {
    const rehydrationType = persistent.oneOf('RehydrationType', [
      'ENTIRE_PAST_SESSION',
      'FROM_SEGMENT',
    ]);
    const sourceContactId = persistent.string('SourceContactId', { max: 256 });
    const source = this.contacts.get(sourceContactId);
    if (!source)
      throw ConnectErrors.resourceNotFound(`Source contact not found: ${sourceContactId}`);
    if (rehydrationType === 'ENTIRE_PAST_SESSION' && source.initialContactId !== sourceContactId) {
      throw ConnectErrors.invalidRequest(
        'ENTIRE_PAST_SESSION takes the InitialContactId of the past chat',
      );
    }
    if (source.endedAt === undefined) {
      throw ConnectErrors.invalidRequest('Persistent chat can only continue an ended chat');
    }
    return { RehydrationType: rehydrationType, SourceContactId: sourceContactId };
  }

  private activeContacts(): number {
    return this.list().filter((contact) => {
      this.expireIfOverdue(contact);
      return contact.endedAt === undefined;
    }).length;
  }

  private byParticipantToken(participantToken: string | undefined): Session {
    for (const contact of this.list()) {
      const participant = contact.participants.find(
        (p) => p.participantToken !== undefined && p.participantToken === participantToken,
      );
      if (participant) return this.usable({ contact, participant });
    }
    throw ParticipantErrors.accessDenied('The participant token is not valid');
  }

  private byConnectionToken(connectionToken: string | undefined): Session {
    for (const contact of this.list()) {
      for (const participant of contact.participants) {
        const credential = participant.connections.find((c) => c.token === connectionToken);
        if (!credential) continue;
        if (credential.expiresAt <= this.options.now()) {
          throw ParticipantErrors.accessDenied('The connection token has expired');
        }
        return this.usable({ contact, participant });
      }
    }
    throw ParticipantErrors.accessDenied('The connection token is not valid');
  }

  private usable(session: Session): Session {
    this.expireIfOverdue(session.contact);
    if (session.contact.endedAt !== undefined || session.participant.left) {
      throw ParticipantErrors.accessDenied('The participant is no longer part of the contact');
    }
    return session;
  }

  private expireIfOverdue(contact: Contact): void {
    if (contact.endedAt === undefined && this.options.now() >= contact.endsAt) this.end(contact);
  }

  private newParticipant(role: ParticipantRole, displayName: string): Participant {
    return {
      participantId: randomUUID(),
      role,
      displayName,
      connections: [],
      connected: false,
      left: false,
    };
  }

  /** The participant speaking for a role; SYSTEM and bots exist implicitly, like in Connect. */
  private speaker(contact: Contact, role: ParticipantRole): Participant {
    const present = contact.participants.find((p) => p.role === role && !p.left);
    if (present) return present;
    if (role === 'AGENT') throw ConnectErrors.invalidRequest('No agent has joined this contact');
    const implicit = this.newParticipant(role, role === 'SYSTEM' ? 'SYSTEM_MESSAGE' : 'BOT');
    implicit.connected = true;
    contact.participants.push(implicit);
    return implicit;
  }

  private leave(contact: Contact, participant: Participant): void {
    if (participant.left) return;
    this.append(contact, participant, 'EVENT', EVENT.participantLeft);
    participant.left = true;
  }

  private end(contact: Contact): void {
    if (contact.endedAt !== undefined) return;
    this.appendItem(contact, {
      Type: 'EVENT',
      ContentType: EVENT.chatEnded,
      visibility: 'ALL',
    });
    contact.endedAt = this.options.now();
  }

  private newAttachment(
    contact: Contact,
    participant: Participant,
    file: { name: string; contentType: string; size: number; content?: Buffer },
  ): StoredAttachment {
    const attachment: StoredAttachment = {
      attachmentId: randomUUID(),
      initialContactId: contact.initialContactId,
      participantId: participant.participantId,
      name: file.name,
      contentType: file.contentType,
      sizeInBytes: file.size,
      content: file.content,
      completed: false,
    };
    this.attachments.set(attachment.attachmentId, attachment);
    return attachment;
  }

  private completeAttachment(
    contact: Contact,
    participant: Participant,
    attachment: StoredAttachment,
  ): ChatItem {
    attachment.completed = true;
    const ref: AttachmentRef = {
      ContentType: attachment.contentType,
      AttachmentId: attachment.attachmentId,
      AttachmentName: attachment.name,
      Status: 'APPROVED',
    };
    return this.appendItem(contact, {
      Type: 'ATTACHMENT',
      ContentType: attachment.contentType,
      ParticipantId: participant.participantId,
      DisplayName: participant.displayName,
      ParticipantRole: participant.role,
      Attachments: [ref],
      visibility: 'ALL',
    });
  }

  private append(
    contact: Contact,
    participant: Participant,
    type: ItemType,
    contentType: string,
    content?: string,
    visibility: Visibility = 'ALL',
  ): ChatItem {
    return this.appendItem(contact, {
      Type: type,
      ContentType: contentType,
      ...(content !== undefined ? { Content: content } : {}),
      ParticipantId: participant.participantId,
      DisplayName: participant.displayName,
      ParticipantRole: participant.role,
      visibility,
    });
  }

  private appendItem(
    contact: Contact,
    fields: Omit<ChatItem, 'Id' | 'AbsoluteTime' | 'InitialContactId' | 'ContactId'>,
  ): ChatItem {
    // Strictly increasing, as Connect's own order of a chat's items is: two items written in
    // the same millisecond must still sort in the order they were written.
    this.lastItemAt = Math.max(this.options.now(), this.lastItemAt + 1);
    const item: ChatItem = {
      AbsoluteTime: iso(this.lastItemAt),
      Id: randomUUID(),
      InitialContactId: contact.initialContactId,
      ContactId: contact.contactId,
      ...fields,
    };
    contact.transcript.push(item);
    for (const topicArn of contact.streaming.values()) this.options.stream(topicArn, item, contact);
    return item;
  }
}
