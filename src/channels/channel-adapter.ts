import type { IncomingHttpHeaders } from 'node:http';
import type { ConversationKey, CustomerFile, FetchedFile } from '../conversations';
import type { InboundMessage } from '../relay';

/** What a webhook handler knows of the request, with the bytes exactly as they arrived. */
export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  /** The path and query as the client asked for them (`/webhooks/twilio?x=1`). */
  url: string;
  rawBody: Buffer;
  body: unknown;
  params: Record<string, string>;
}

/** What the provider reports of a message sent to the customer (sent, delivered, read, failed…). */
export interface DeliveryStatus extends ConversationKey {
  /** The provider's id of the sent message, as `send` returned it. */
  providerMessageId: string;
  /** The provider's word for the state, lowercase. */
  status: string;
  /** Why it failed, with the provider's error code. */
  reason?: string;
}

/** What one webhook request carries. */
export interface WebhookContent {
  messages: InboundMessage[];
  statuses: DeliveryStatus[];
}

/** A webhook endpoint of a provider: checks the signature and reads the body. */
export interface WebhookSource {
  /** False when the request is not signed by the provider (answered with 401). */
  verify(request: WebhookRequest): boolean;
  /** Throws InvalidWebhookError when the body is not a valid webhook of this endpoint. */
  parse(request: WebhookRequest, receivedAt: number): WebhookContent;
}

/** The body does not say what a message of this channel must say; answered with 400. */
export class InvalidWebhookError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'InvalidWebhookError';
  }
}

/** A message for the customer, as the outbound relay hands it to the customer's channel. */
export interface OutboundMessage {
  channel: string;
  /** Stable across retries (the stream item id and part): lets the receiver deduplicate. */
  id: string;
  customerAddress: string;
  businessAddress: string;
  text?: string;
  attachments: { url: string; contentType: string; name?: string }[];
}

/** What the provider answered to a send. */
export interface SendReceipt {
  /** The provider's id of the sent message, which its delivery statuses carry. */
  providerMessageId?: string;
}

/** A send the provider refused; `retryable` tells a passing refusal (429, 5xx) from a final one. */
export class ChannelSendError extends Error {
  constructor(
    readonly retryable: boolean,
    readonly reason: string,
    readonly status?: number,
  ) {
    super(reason);
    this.name = 'ChannelSendError';
  }
}

/** What a channel can carry, for the outbound relay to shape messages by. */
export interface ChannelCapabilities {
  /** Longest text of one message, in characters; longer text goes as ordered parts. */
  maxTextLength: number;
  /** False: markdown is reduced to plain text (SMS, WhatsApp). */
  markdown: boolean;
  /** False: files are sent as a text with a link. */
  attachments: boolean;
}

/**
 * One messaging channel: checks its webhooks, turns them into inbound messages and delivery
 * statuses, fetches the customers' files, sends outbound.
 */
export interface ChannelAdapter extends WebhookSource {
  readonly capabilities: ChannelCapabilities;
  /** Fetches a file of an inbound message with the provider's credentials. */
  download(file: CustomerFile): Promise<FetchedFile>;
  /** Throws ChannelSendError when the provider refuses the message. */
  send(message: OutboundMessage): Promise<SendReceipt>;
}
